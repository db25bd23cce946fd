export interface RestartBackoff {
  /** wait before the first restart, and again after a child stayed up for resetAfterMs */
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * How long a supervisor waits before restarting a child that exited after `uptimeMs`: doubling
 * from the previous wait, capped, and back to the initial wait once the child had stayed up long
 * enough to count as healthy.
 */
export function restartDelayMs(
  previousDelayMs: number | null,
  uptimeMs: number,
  backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF,
): number {
  if (previousDelayMs === null || uptimeMs >= backoff.resetAfterMs) return backoff.initialMs;
  return Math.min(previousDelayMs * 2, backoff.maxMs);
}
