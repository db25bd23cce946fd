import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** Every API error is JSON: a stable code, a message naming the bad field, and the field itself. */
export interface ApiErrorBody {
  error: string;
  message: string;
  field?: string;
  issues?: { field: string; message: string }[];
}

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly body: ApiErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status, { message: body.message });
  }
}

export const notFound = (what: string, id: string): ApiError =>
  new ApiError(404, { error: 'not_found', message: `${what} ${id} not found` });

export const conflict = (message: string, field?: string): ApiError =>
  new ApiError(409, { error: 'conflict', message, ...(field ? { field } : {}) });

/** Deletes a row; 404 if there is none, 409 with `stillUsed` while other rows refer to it (SQLSTATE 23503). */
export async function deleteOrConflict(remove: () => Promise<boolean>, what: string, id: string, stillUsed: string): Promise<void> {
  let removed: boolean;
  try {
    removed = await remove();
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw conflict(stillUsed);
    throw err;
  }
  if (!removed) throw notFound(what, id);
}

export const invalid = (field: string, message: string): ApiError =>
  new ApiError(400, { error: 'invalid_request', message: `${field}: ${message}`, field, issues: [{ field, message }] });

const fieldOf = (path: readonly PropertyKey[]): string => (path.length ? path.map(String).join('.') : 'body');

export function fromZod(error: z.ZodError): ApiError {
  const issues = error.issues.map((i) => ({ field: fieldOf(i.path), message: i.message }));
  const first = issues[0];
  return new ApiError(400, {
    error: 'invalid_request',
    message: issues.map((i) => `${i.field}: ${i.message}`).join('; '),
    field: first.field,
    issues,
  });
}

export async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw invalid('body', 'must be a JSON document (Content-Type: application/json)');
  }
}

export function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZod(result.error);
  return result.data;
}
