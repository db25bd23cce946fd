import type { Failure, RunOutcome, RunSummary } from './account-status';

/**
 * What a finished collection cycle adds to the metrics and the log: read from the status the
 * account's workflow reports (its lastRun and lastError). Pure, so the counting is testable alone.
 */

/**
 * Upper bounds (seconds) of the cycle-duration histogram's buckets; a last one, +Inf, follows.
 * cycle_metrics.duration_buckets (migration 013) holds one count per bucket in this order.
 */
export const DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800] as const;

/** What a finished cycle is read from: fields of the account status. */
export type CycleInputs = {
  // a run summary carried over from an older workflow history may lack some counts
  lastRun:
    | (Pick<RunSummary, 'startedAt' | 'finishedAt' | 'outcome'> &
        Partial<Pick<RunSummary, 'delivered' | 'recognized' | 'held' | 'quarantined' | 'failed' | 'downloadedBytes'>>)
    | null;
  lastError: Pick<Failure, 'kind' | 'message'> | null;
};

export interface FinishedCycle {
  /** names the run: an account's counters include each run once, however often it is reported */
  run: string;
  outcome: RunOutcome;
  startedAt: string;
  durationSeconds: number;
  /** index into DURATION_BUCKETS, or its length for +Inf */
  bucket: number;
  delivered: number;
  recognized: number;
  held: number;
  quarantined: number;
  failed: number;
  downloadedBytes: number;
  /** why a failed cycle failed; null unless the outcome is "failed" */
  error: { kind: string; message: string } | null;
}

export function durationBucket(seconds: number): number {
  const index = DURATION_BUCKETS.findIndex((bound) => seconds <= bound);
  return index === -1 ? DURATION_BUCKETS.length : index;
}

/** The last finished cycle the status reports, or null before the first one. */
export function finishedCycleOf(status: CycleInputs): FinishedCycle | null {
  const run = status.lastRun;
  if (!run) return null;
  const durationSeconds = Math.max(0, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000) || 0;
  return {
    run: `${run.startedAt}/${run.finishedAt}`,
    outcome: run.outcome,
    startedAt: run.startedAt,
    durationSeconds,
    bucket: durationBucket(durationSeconds),
    delivered: run.delivered ?? 0,
    recognized: run.recognized ?? 0,
    held: run.held ?? 0,
    quarantined: run.quarantined ?? 0,
    failed: run.failed ?? 0,
    downloadedBytes: run.downloadedBytes ?? 0,
    // the workflow sets lastError with the failed run; an older error may linger after a skipped one
    error: run.outcome === 'failed' ? { kind: status.lastError?.kind ?? 'unknown', message: status.lastError?.message ?? '' } : null,
  };
}
