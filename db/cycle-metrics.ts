import { ACCOUNT_STATES, type AccountState } from '../core/account-state';
import { DURATION_BUCKETS, finishedCycleOf, type CycleInputs, type FinishedCycle } from '../core/cycle-metrics';
import type { Queryable } from './pool';

/** A cycle as counted: what the log line about it says. */
export type CountedCycle = Omit<FinishedCycle, 'run' | 'bucket'> & { accountId: string; protocol: string };

/**
 * Adds the status's last run to the counters, once: one statement moves the account's cursor to
 * the run and adds to its row only if the cursor moved, so a retried or repeated report (or two
 * at once) adds nothing more. Returns the cycle if this call counted it.
 */
export async function countFinishedCycle(db: Queryable, accountId: string, status: CycleInputs): Promise<CountedCycle | null> {
  const cycle = finishedCycleOf(status);
  if (!cycle) return null;
  const { run, bucket, ...counted } = cycle;
  const buckets = DURATION_BUCKETS.map(() => 0).concat(0);
  buckets[bucket] = 1;
  const { rows } = await db.query<{ protocol: string }>(
    `WITH counted AS (
       INSERT INTO cycle_metrics_cursor AS c (external_account_id, run)
       SELECT id, $2 FROM external_accounts WHERE id = $1
       ON CONFLICT (external_account_id) DO UPDATE SET run = EXCLUDED.run WHERE c.run <> EXCLUDED.run
       RETURNING external_account_id
     )
     INSERT INTO cycle_metrics AS m
       (protocol, outcome, error_kind, cycles, delivered, quarantined, downloaded_bytes, duration_seconds, duration_buckets)
     SELECT e.protocol, $3, $4, 1, $5, $6, $7, $8, $9::bigint[]
       FROM counted JOIN external_accounts e ON e.id = counted.external_account_id
     ON CONFLICT (protocol, outcome, error_kind) DO UPDATE SET
       cycles = m.cycles + 1,
       delivered = m.delivered + EXCLUDED.delivered,
       quarantined = m.quarantined + EXCLUDED.quarantined,
       downloaded_bytes = m.downloaded_bytes + EXCLUDED.downloaded_bytes,
       duration_seconds = m.duration_seconds + EXCLUDED.duration_seconds,
       duration_buckets[$10] = m.duration_buckets[$10] + 1
     RETURNING protocol`,
    [
      accountId,
      run,
      cycle.outcome,
      cycle.error?.kind ?? '',
      cycle.delivered,
      cycle.quarantined,
      cycle.downloadedBytes,
      cycle.durationSeconds,
      buckets,
      bucket + 1,
    ],
  );
  if (rows.length === 0) return null;
  return { accountId, protocol: rows[0].protocol, ...counted };
}

export interface CycleCounters {
  protocol: string;
  outcome: string;
  /** '' unless the cycles failed */
  errorKind: string;
  cycles: number;
  delivered: number;
  quarantined: number;
  downloadedBytes: number;
  durationSeconds: number;
  /** cycles per bucket of DURATION_BUCKETS, then +Inf */
  durationBuckets: number[];
}

/** Every counter row: a handful (protocols × outcomes × error kinds), whatever the number of accounts. */
export async function loadCycleCounters(db: Queryable): Promise<CycleCounters[]> {
  const { rows } = await db.query<CycleCounters>(
    `SELECT protocol, outcome, error_kind AS "errorKind", cycles::float8 AS cycles, delivered::float8 AS delivered,
            quarantined::float8 AS quarantined, downloaded_bytes::float8 AS "downloadedBytes",
            duration_seconds AS "durationSeconds", duration_buckets::float8[] AS "durationBuckets"
       FROM cycle_metrics ORDER BY protocol, outcome, error_kind`,
  );
  return rows;
}

export interface CurrentGauges {
  accounts: Record<AccountState, number>;
  /** downloaded messages waiting for a delivery target */
  backlog: number;
  quarantined: number;
}

/** What is true now, in one query over two indexes (account_status by state, held_messages by state). */
export async function loadCurrentGauges(db: Queryable): Promise<CurrentGauges> {
  const { rows } = await db.query<{ source: string; state: string; n: number }>(
    `SELECT 'account' AS source, state, count(*)::float8 AS n FROM account_status GROUP BY state
     UNION ALL
     SELECT 'held', state, count(*)::float8 FROM held_messages GROUP BY state`,
  );
  const accounts = Object.fromEntries(ACCOUNT_STATES.map((s) => [s, 0])) as Record<AccountState, number>;
  const gauges: CurrentGauges = { accounts, backlog: 0, quarantined: 0 };
  for (const { source, state, n } of rows) {
    if (source === 'account' && state in accounts) accounts[state as AccountState] = n;
    else if (source === 'held' && state === 'pending') gauges.backlog = n;
    else if (source === 'held' && state === 'quarantined') gauges.quarantined = n;
  }
  return gauges;
}
