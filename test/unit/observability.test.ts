import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { loadLogSettings } from '../../core/config';
import { DURATION_BUCKETS, durationBucket, finishedCycleOf, type CycleInputs } from '../../core/cycle-metrics';
import { createLog, temporalLogger } from '../../core/log';
import { exposition, histogramSamples } from '../../core/prometheus-text';

const run = (more: Partial<NonNullable<CycleInputs['lastRun']>> = {}): NonNullable<CycleInputs['lastRun']> => ({
  startedAt: '2026-01-01T10:00:00.000Z',
  finishedAt: '2026-01-01T10:00:03.500Z',
  outcome: 'ok',
  delivered: 4,
  recognized: 1,
  held: 0,
  quarantined: 1,
  failed: 0,
  downloadedBytes: 12_345,
  ...more,
});

describe('a finished cycle as the metrics count it', () => {
  test('no run yet: nothing; a run: its counts, duration, bucket and a key that names it', () => {
    assert.equal(finishedCycleOf({ lastRun: null, lastError: null }), null);
    const cycle = finishedCycleOf({ lastRun: run(), lastError: null });
    assert.deepEqual(cycle, {
      run: '2026-01-01T10:00:00.000Z/2026-01-01T10:00:03.500Z',
      outcome: 'ok',
      startedAt: '2026-01-01T10:00:00.000Z',
      durationSeconds: 3.5,
      bucket: DURATION_BUCKETS.indexOf(5),
      delivered: 4,
      recognized: 1,
      held: 0,
      quarantined: 1,
      failed: 0,
      downloadedBytes: 12_345,
      error: null,
    });
  });

  test("a failed run carries the error's kind; an error left from before a skipped or ok run does not", () => {
    const lastError: CycleInputs['lastError'] = { kind: 'auth', message: 'authentication failed' };
    assert.deepEqual(finishedCycleOf({ lastRun: run({ outcome: 'failed' }), lastError })?.error, lastError);
    assert.deepEqual(finishedCycleOf({ lastRun: run({ outcome: 'failed' }), lastError: null })?.error, { kind: 'unknown', message: '' });
    assert.equal(finishedCycleOf({ lastRun: run({ outcome: 'skipped' }), lastError })?.error, null);
  });

  test('a run summary from an older history without some counts counts them as 0', () => {
    const old = { startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:00:00Z', outcome: 'ok' as const, delivered: 2 };
    const cycle = finishedCycleOf({ lastRun: old, lastError: null });
    assert.equal(cycle?.held, 0);
    assert.equal(cycle?.downloadedBytes, 0);
    assert.equal(cycle?.delivered, 2);
  });

  test('buckets: a bound belongs to its bucket; past the last one is +Inf', () => {
    assert.equal(durationBucket(0), 0);
    assert.equal(durationBucket(0.5), 0);
    assert.equal(durationBucket(0.51), 1);
    assert.equal(durationBucket(1800), DURATION_BUCKETS.length - 1);
    assert.equal(durationBucket(1800.1), DURATION_BUCKETS.length);
  });
});

describe('Prometheus text format', () => {
  test('HELP, TYPE and samples; label values escaped', () => {
    const text = exposition([
      { name: 'x_total', help: 'a\\b\nc', type: 'counter', samples: [{ labels: { kind: 'a"b\\c\nd' }, value: 3 }] },
      { name: 'y', help: 'now', type: 'gauge', samples: [{ value: 0 }] },
    ]);
    assert.equal(
      text,
      '# HELP x_total a\\\\b\\nc\n# TYPE x_total counter\nx_total{kind="a\\"b\\\\c\\nd"} 3\n# HELP y now\n# TYPE y gauge\ny 0\n',
    );
  });

  test('a histogram: cumulative buckets ending in +Inf, then _sum and _count', () => {
    const samples = histogramSamples([1, 5], [2, 0, 1], 9.5, { protocol: 'pop3' });
    assert.deepEqual(
      exposition([{ name: 'd_seconds', help: 'h', type: 'histogram', samples }])
        .split('\n')
        .slice(2, -1),
      [
        'd_seconds_bucket{protocol="pop3",le="1"} 2',
        'd_seconds_bucket{protocol="pop3",le="5"} 2',
        'd_seconds_bucket{protocol="pop3",le="+Inf"} 3',
        'd_seconds_sum{protocol="pop3"} 9.5',
        'd_seconds_count{protocol="pop3"} 3',
      ],
    );
  });
});

describe('log settings', () => {
  test('JSON at info by default; level and format from the environment; a wrong value names its variable', () => {
    assert.deepEqual(loadLogSettings({}), { level: 'info', format: 'json' });
    assert.deepEqual(loadLogSettings({ MAILPULL_LOG_LEVEL: 'DEBUG', MAILPULL_LOG_FORMAT: 'pretty' }), { level: 'debug', format: 'pretty' });
    assert.throws(() => loadLogSettings({ MAILPULL_LOG_LEVEL: 'loud' }), /MAILPULL_LOG_LEVEL/);
    assert.throws(() => loadLogSettings({ MAILPULL_LOG_FORMAT: 'xml' }), /MAILPULL_LOG_FORMAT/);
  });
});

describe('the logger', () => {
  const capture = (): { lines: () => any[]; stream: Writable } => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    return {
      stream,
      lines: () =>
        text
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
    };
  };

  test('JSON lines; secret fields masked even when logged by mistake; levels below the setting dropped', () => {
    const out = capture();
    const log = createLog({ level: 'info', format: 'json' }, out.stream);
    log.debug('not shown');
    log.info({ accountId: 'a1', password: 'hunter2', oauth: { clientSecret: 'cs', refreshToken: 'rt' } }, 'cycle finished');
    const [line, ...rest] = out.lines();
    assert.equal(rest.length, 0);
    assert.equal(line.msg, 'cycle finished');
    assert.equal(line.accountId, 'a1');
    assert.equal(line.password, '****');
    assert.deepEqual(line.oauth, { clientSecret: '****', refreshToken: '****' });
    assert.ok(!Number.isNaN(Date.parse(line.time)), 'an ISO time');
  });

  test("the Temporal SDK's log calls keep their level and metadata; its errors are serialized", () => {
    const out = capture();
    const sdk = temporalLogger(createLog({ level: 'debug', format: 'json' }, out.stream));
    sdk.trace('dropped');
    sdk.debug('Activity started', { activityType: 'listNew' });
    sdk.log('WARN', 'Activity failed', { error: new Error('connection reset'), attempt: 2 });
    const [started, failed] = out.lines();
    assert.deepEqual([started.level, started.msg, started.activityType], [20, 'Activity started', 'listNew']);
    assert.deepEqual([failed.level, failed.msg, failed.attempt, failed.err.message], [40, 'Activity failed', 2, 'connection reset']);
  });
});
