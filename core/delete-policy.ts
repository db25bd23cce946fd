import { messageKey, type MessageRef } from './download-plan';

export type DeletePolicy = { mode: 'never' } | { mode: 'immediately' } | { mode: 'afterDays'; days: number };

export interface IndexedMessage extends MessageRef {
  firstSeenAt: Date;
  deliveredAt: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The server messages the policy removes now. Only messages whose delivery is committed locally
 * are ever candidates (invariant 1); `afterDays` counts from when mailpull first saw the message.
 */
export function selectForDeletion<T extends MessageRef>(
  onServer: readonly T[],
  index: ReadonlyMap<string, IndexedMessage>,
  policy: DeletePolicy,
  now: Date,
): T[] {
  if (policy.mode === 'never') return [];
  return onServer.filter((ref) => {
    const entry = index.get(messageKey(ref));
    if (!entry || entry.deliveredAt === null) return false;
    if (policy.mode === 'immediately') return true;
    return now.getTime() - entry.firstSeenAt.getTime() > policy.days * DAY_MS;
  });
}
