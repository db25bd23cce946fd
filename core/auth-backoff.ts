const DAY_MS = 24 * 60 * 60_000;

/**
 * How long to wait after `failures` authentication failures in a row: the interval after the
 * first, then doubling, capped at a day (or the interval, if that is longer). Providers lock
 * accounts that keep retrying a wrong password.
 */
export function authBackoffMs(intervalMs: number, failures: number): number {
  if (failures <= 1) return intervalMs;
  const cap = Math.max(intervalMs, DAY_MS);
  return Math.min(intervalMs * 2 ** Math.min(failures - 1, 32), cap);
}
