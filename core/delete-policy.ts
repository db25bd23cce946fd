import { messageKey, type MessageRef } from './download-plan';

export type DeletePolicy = { mode: 'never' } | { mode: 'immediately' } | { mode: 'afterDays'; days: number };

export interface IndexedMessage extends MessageRef {
  /** the size the server declared when mailpull first listed it */
  size: number;
  firstSeenAt: Date;
  deliveredAt: Date | null;
  /** POP3: the header section's hash as downloaded (null before it was recorded) */
  headerHash?: string | null;
  contentHash?: string | null;
  /** the size RETR returned when it was not the listed one: what was delivered is not that message */
  retrievedSize?: number | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The server messages the policy removes now. Only messages whose delivery is committed locally
 * are ever candidates (invariant 1), and only when the server still describes them as mailpull
 * recorded them: the same size, and a key no other message on the server shares (a reused or
 * duplicated UIDL never authorises a delete), and whose download was the message listed. `afterDays` counts from when mailpull first saw it.
 */
export function selectForDeletion<T extends MessageRef & { size: number }>(
  onServer: readonly T[],
  index: ReadonlyMap<string, IndexedMessage>,
  policy: DeletePolicy,
  now: Date,
): T[] {
  if (policy.mode === 'never') return [];
  const seen = new Map<string, number>();
  for (const ref of onServer) seen.set(messageKey(ref), (seen.get(messageKey(ref)) ?? 0) + 1);
  return onServer.filter((ref) => {
    const key = messageKey(ref);
    const entry = index.get(key);
    if (!entry || entry.deliveredAt === null || entry.size !== ref.size || seen.get(key) !== 1) return false;
    if (entry.retrievedSize != null && entry.retrievedSize !== entry.size) return false;
    if (policy.mode === 'immediately') return true;
    return now.getTime() - entry.firstSeenAt.getTime() > policy.days * DAY_MS;
  });
}
