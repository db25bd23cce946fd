import { createHash } from 'node:crypto';

/**
 * Stand-in unique ids for a POP3 server without UIDL: a hash of each message's header section
 * and its size. Messages with identical keys are told apart by their order (#2, #3, …), so two
 * copies of one message are both collected, not one mistaken for the other.
 */
export function contentKeys(messages: readonly { headers: Buffer; size: number }[]): string[] {
  const seen = new Map<string, number>();
  return messages.map(({ headers, size }) => {
    const key = `ck-${createHash('sha256').update(headers).digest('hex').slice(0, 40)}-${size}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? key : `${key}#${n}`;
  });
}
