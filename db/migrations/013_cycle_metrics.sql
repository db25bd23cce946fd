-- The counters behind GET /metrics (api/metrics.ts). Kept in Postgres because every worker adds to
-- them and every API process serves them: one row per protocol, outcome and error kind.
CREATE TABLE cycle_metrics (
  protocol text NOT NULL,
  outcome text NOT NULL,
  -- '' unless the cycle failed
  error_kind text NOT NULL,
  cycles bigint NOT NULL,
  delivered bigint NOT NULL,
  quarantined bigint NOT NULL,
  downloaded_bytes bigint NOT NULL,
  duration_seconds double precision NOT NULL,
  -- cycles per duration bucket, in the order of core/cycle-metrics.ts DURATION_BUCKETS, then +Inf
  duration_buckets bigint[] NOT NULL,
  PRIMARY KEY (protocol, outcome, error_kind)
);

-- The run each account's cycles were last counted for: a recordStatus that is retried, or that
-- reports the same run again, adds nothing.
CREATE TABLE cycle_metrics_cursor (
  external_account_id uuid PRIMARY KEY REFERENCES external_accounts (id) ON DELETE CASCADE,
  run text NOT NULL
);
-- Runs finished before this migration are not counted again.
INSERT INTO cycle_metrics_cursor (external_account_id, run)
SELECT external_account_id, (status -> 'lastRun' ->> 'startedAt') || '/' || (status -> 'lastRun' ->> 'finishedAt')
  FROM account_status
 WHERE jsonb_typeof(status -> 'lastRun') = 'object';

-- The scrape counts held messages by state over every account.
CREATE INDEX held_messages_state_idx ON held_messages (state);
