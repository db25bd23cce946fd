import type { Handler } from 'hono';
import { DURATION_BUCKETS } from '../core/cycle-metrics';
import { exposition, histogramSamples, PROMETHEUS_CONTENT_TYPE, type MetricFamily, type Sample } from '../core/prometheus-text';
import { loadCurrentGauges, loadCycleCounters, type CycleCounters } from '../db/cycle-metrics';
import type { Pool } from '../db/pool';

const PROTOCOLS = ['pop3', 'imap'];
const OUTCOMES = ['ok', 'failed', 'skipped', 'deferred'];

/** Adds up a counter over the rows, per label set; every `keys` combination is present, at 0 if no row has it. */
function sumBy(
  rows: readonly CycleCounters[],
  keys: Record<string, string>[],
  labelsOf: (r: CycleCounters) => Record<string, string>,
  value: (r: CycleCounters) => number,
): Sample[] {
  const samples = new Map<string, Sample>(keys.map((labels) => [JSON.stringify(labels), { labels, value: 0 }]));
  for (const row of rows) {
    const labels = labelsOf(row);
    const key = JSON.stringify(labels);
    const sample = samples.get(key) ?? { labels, value: 0 };
    sample.value += value(row);
    samples.set(key, sample);
  }
  return [...samples.values()];
}

function durationHistogram(rows: readonly CycleCounters[]): Sample[] {
  const groups = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number }>();
  for (const row of rows) {
    const labels = { protocol: row.protocol, outcome: row.outcome };
    const key = JSON.stringify(labels);
    const group = groups.get(key) ?? { labels, counts: [], sum: 0 };
    row.durationBuckets.forEach((n, i) => (group.counts[i] = (group.counts[i] ?? 0) + n));
    group.sum += row.durationSeconds;
    groups.set(key, group);
  }
  return [...groups.values()].flatMap((g) => histogramSamples(DURATION_BUCKETS, g.counts, g.sum, g.labels));
}

/**
 * Every metric, from two queries: the counters the workers keep per finished cycle (cycle_metrics,
 * a few rows) and the gauges counted now over indexes. Any API process answers the same.
 */
export async function renderMetrics(pool: Pool): Promise<string> {
  const [rows, gauges] = await Promise.all([loadCycleCounters(pool), loadCurrentGauges(pool)]);
  const perProtocol = PROTOCOLS.map((protocol) => ({ protocol }));
  const byProtocol = (r: CycleCounters) => ({ protocol: r.protocol });
  const families: MetricFamily[] = [
    {
      name: 'mailpull_messages_delivered_total',
      help: 'Messages delivered to every local recipient by collection cycles, by the protocol they were collected with.',
      type: 'counter',
      samples: sumBy(rows, perProtocol, byProtocol, (r) => r.delivered),
    },
    {
      name: 'mailpull_messages_quarantined_total',
      help: 'Messages put in quarantine by collection cycles.',
      type: 'counter',
      samples: sumBy(rows, perProtocol, byProtocol, (r) => r.quarantined),
    },
    {
      name: 'mailpull_downloaded_bytes_total',
      help: 'Bytes of the messages collection cycles downloaded (their raw sizes).',
      type: 'counter',
      samples: sumBy(rows, perProtocol, byProtocol, (r) => r.downloadedBytes),
    },
    {
      name: 'mailpull_cycles_total',
      help: 'Finished collection cycles, by outcome: ok, failed, skipped (the account was disabled meanwhile), or deferred (the provider asked to wait).',
      type: 'counter',
      samples: sumBy(
        rows,
        PROTOCOLS.flatMap((protocol) => OUTCOMES.map((outcome) => ({ protocol, outcome }))),
        (r) => ({ protocol: r.protocol, outcome: r.outcome }),
        (r) => r.cycles,
      ),
    },
    {
      name: 'mailpull_errors_total',
      help: 'Failed collection cycles, by the kind of error that ended them (auth, network, tls, ...).',
      type: 'counter',
      samples: sumBy(
        rows.filter((r) => r.errorKind !== ''),
        [],
        (r) => ({ protocol: r.protocol, kind: r.errorKind }),
        (r) => r.cycles,
      ),
    },
    {
      name: 'mailpull_cycle_duration_seconds',
      help: 'How long collection cycles took, from the start to the end of the cycle.',
      type: 'histogram',
      samples: durationHistogram(rows),
    },
    {
      name: 'mailpull_accounts',
      help: 'External accounts by the state their workflow last reported (accounts that never reported are not counted).',
      type: 'gauge',
      samples: Object.entries(gauges.accounts).map(([state, value]) => ({ labels: { state }, value })),
    },
    {
      name: 'mailpull_delivery_backlog_messages',
      help: 'Downloaded messages waiting for a delivery target that answered "later" (they stay on the remote server meanwhile).',
      type: 'gauge',
      samples: [{ value: gauges.backlog }],
    },
    {
      name: 'mailpull_quarantined_messages',
      help: 'Messages in quarantine now, waiting for an operator to retry or discard them.',
      type: 'gauge',
      samples: [{ value: gauges.quarantined }],
    },
  ];
  return exposition(families);
}

/** GET /metrics for Prometheus. */
export const metricsHandler =
  (pool: Pool): Handler =>
  async (c) =>
    c.body(await renderMetrics(pool), 200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
