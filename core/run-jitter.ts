/** At most this share of the interval is taken off an account's scheduled wait. */
export const MAX_JITTER_SHARE = 0.1;

/** A number in [0, 1) fixed for the account: FNV-1a over its id. */
export function accountJitter(accountId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < accountId.length; i++) {
    hash ^= accountId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/**
 * The wait after a cycle until the next one: the interval counted from the cycle's start (so a
 * slow cycle or a queue does not push every later cycle back), shortened by up to a tenth by an
 * amount fixed per account, and at least a tenth of the interval. Accounts that start together —
 * created in bulk, or all overdue when Temporal or the worker comes back after an outage — each
 * run at a slightly different period, so they drift apart cycle by cycle (over a tenth of the
 * interval after one cycle, over all of it after ten) instead of polling in the same second
 * forever. Cycles never start further apart than the interval, unless one lasts longer than it.
 * Pure and keyed on the account id, so it is deterministic in the workflow.
 */
export function scheduledWaitMs(accountId: string, intervalMs: number, elapsedMs = 0): number {
  const period = intervalMs - Math.floor(accountJitter(accountId) * intervalMs * MAX_JITTER_SHARE);
  return Math.max(Math.ceil(intervalMs * MAX_JITTER_SHARE), period - Math.max(0, elapsedMs));
}
