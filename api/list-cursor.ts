import { z } from 'zod';

/**
 * The cursor of a paginated list: the last item of the page before, by the list's order (name,
 * id), opaque to clients. Decoding is bounded and checked like any other input.
 */
const position = z.tuple([
  z
    .string()
    .max(1000)
    .refine((s) => !s.includes('\0')),
  z.uuid(),
]);

export const encodeCursor = (last: { name: string; id: string }): string =>
  Buffer.from(JSON.stringify([last.name, last.id])).toString('base64url');

export function decodeCursor(cursor: string): { name: string; id: string } | null {
  try {
    const parsed = position.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? { name: parsed.data[0], id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}
