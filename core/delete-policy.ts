export type DeletePolicy = { mode: 'never' } | { mode: 'immediately' } | { mode: 'afterDays'; days: number };

export interface IndexedMessage {
  uid: string;
  firstSeenAt: Date;
  deliveredAt: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The server messages the policy removes now. Only messages whose delivery is committed locally
 * are ever candidates (invariant 1); `afterDays` counts from when mailpull first saw the message.
 */
export function selectForDeletion(
  onServer: readonly string[],
  index: ReadonlyMap<string, IndexedMessage>,
  policy: DeletePolicy,
  now: Date,
): string[] {
  if (policy.mode === 'never') return [];
  return onServer.filter((uid) => {
    const entry = index.get(uid);
    if (!entry || entry.deliveredAt === null) return false;
    if (policy.mode === 'immediately') return true;
    return now.getTime() - entry.firstSeenAt.getTime() > policy.days * DAY_MS;
  });
}
