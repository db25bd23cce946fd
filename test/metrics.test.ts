import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createApp } from '../api/app';
import { insertApiToken } from '../db/api-tokens';
import { countFinishedCycle } from '../db/cycle-metrics';
import { newApiToken } from '../secrets/api-token';
import { domainWithTarget } from './support/delivered';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { unusedPort } from '../testkit/ports';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink';
import { TestSystem } from '../testkit/system';

/** Prometheus text → sample name with labels (as written) → value. */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

const sum = (buffers: readonly Buffer[]): number => buffers.reduce((n, b) => n + b.length, 0);

describe('Prometheus metrics: the API counts cycles from Postgres, the worker serves the SDK metrics', () => {
  let sys: TestSystem;
  let sink: SmtpSink;
  let workerMetrics = '';
  before(async () => {
    workerMetrics = `127.0.0.1:${await unusedPort()}`;
    sys = await TestSystem.start({ workerEnv: { MAILPULL_WORKER_METRICS_ADDRESS: workerMetrics } });
    sink = await startSmtpSink({ rcpt: (address) => ({ code: 550, message: `5.1.1 <${address}>: mailbox unavailable` }) });
  });
  after(async () => {
    await sys.close();
    await sink.close();
  });

  const scrape = async (token: string | null = sys.adminToken): Promise<Map<string, number>> => {
    const res = await sys.api('GET', '/metrics', undefined, token);
    assert.equal(res.status, 200, res.raw.toString());
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return samples(res.body as string);
  };

  test('after a POP3 and an IMAP collection, a refused delivery and a wrong password: exact counts, bytes, states and quarantine', async () => {
    const pop3Mail = [buildMessage({ subject: 'p1' }), buildMessage({ subject: 'p2', body: textOfSize(20_000) })];
    const imapMail = [buildMessage({ subject: 'i1', body: textOfSize(5_000) })];
    const refusedMail = [buildMessage({ subject: 'refused' })];
    const [pop3User, imapUser, refusedUser, wrongUser] = [
      await addUser('mp'),
      await addUser('mi'),
      await addUser('mr'),
      await addUser('mw'),
    ];
    await saveMessages(pop3User, pop3Mail);
    await saveMessages(imapUser, imapMail);
    await saveMessages(refusedUser, refusedMail);
    await saveMessages(wrongUser, [buildMessage()]);
    const owner = await sys.localAccount('owner@metrics.test');
    await domainWithTarget(sys, 'refusing.test', { kind: 'smtp', host: '127.0.0.1', port: sink.port, tlsMode: 'disabled' });
    const refusingOwner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: 'owner@refusing.test' });

    const before = await scrape();
    assert.equal(before.get('mailpull_cycles_total{protocol="pop3",outcome="ok"}'), 0, 'the series exist before the first cycle');
    assert.equal(before.get('mailpull_messages_delivered_total{protocol="imap"}'), 0);
    assert.equal(before.get('mailpull_quarantined_messages'), 0);

    const pop3 = await sys.pop3Account(owner, pop3User);
    const imap = await sys.imapAccount(owner, imapUser);
    const refused = await sys.pop3Account(refusingOwner, refusedUser, { name: 'refused' });
    const wrong = await sys.pop3Account(owner, { ...wrongUser, password: 'not-the-password' }, { name: 'wrong password' });
    for (const account of [pop3, imap, refused, wrong]) await sys.waitForCycles(account.id, 1);
    assert.equal((await sys.status(wrong.id)).lastError?.kind, 'auth');
    assert.equal((await sys.status(refused.id)).lastRun?.quarantined, 1);

    // the cycle's last activity records its status, before the wait
    const after = await waitFor('four counted cycles', async () => {
      const m = await scrape();
      const cycles = [...m].filter(([name]) => name.startsWith('mailpull_cycles_total')).reduce((n, [, v]) => n + v, 0);
      return cycles === 4 && m;
    });
    const expected: Record<string, number> = {
      'mailpull_messages_delivered_total{protocol="pop3"}': 2,
      'mailpull_messages_delivered_total{protocol="imap"}': 1,
      'mailpull_messages_quarantined_total{protocol="pop3"}': 1,
      'mailpull_messages_quarantined_total{protocol="imap"}': 0,
      'mailpull_downloaded_bytes_total{protocol="pop3"}': sum(pop3Mail) + sum(refusedMail),
      'mailpull_downloaded_bytes_total{protocol="imap"}': sum(imapMail),
      'mailpull_cycles_total{protocol="pop3",outcome="ok"}': 2,
      'mailpull_cycles_total{protocol="pop3",outcome="failed"}': 1,
      'mailpull_cycles_total{protocol="pop3",outcome="skipped"}': 0,
      'mailpull_cycles_total{protocol="imap",outcome="ok"}': 1,
      'mailpull_cycles_total{protocol="imap",outcome="failed"}': 0,
      'mailpull_errors_total{protocol="pop3",kind="auth"}': 1,
      'mailpull_cycle_duration_seconds_count{protocol="pop3",outcome="ok"}': 2,
      'mailpull_cycle_duration_seconds_bucket{protocol="pop3",outcome="ok",le="+Inf"}': 2,
      'mailpull_cycle_duration_seconds_count{protocol="pop3",outcome="failed"}': 1,
      'mailpull_cycle_duration_seconds_count{protocol="imap",outcome="ok"}': 1,
      'mailpull_accounts{state="ok"}': 3,
      'mailpull_accounts{state="failing"}': 1,
      'mailpull_accounts{state="disabled"}': 0,
      'mailpull_accounts{state="reauthorization_needed"}': 0,
      mailpull_quarantined_messages: 1,
      mailpull_delivery_backlog_messages: 0,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(after.get(name), value, name);
    assert.equal([...after.keys()].filter((name) => name.startsWith('mailpull_errors_total')).length, 1, 'no other error kind');
    const durationSum = after.get('mailpull_cycle_duration_seconds_sum{protocol="imap",outcome="ok"}') ?? 0;
    assert.ok(durationSum > 0 && durationSum < 60, `the IMAP cycle took ${durationSum} s`);
    const buckets = [...after].filter(([name]) => name.startsWith('mailpull_cycle_duration_seconds_bucket{protocol="pop3",outcome="ok"'));
    assert.ok(
      buckets.every(([, v], i) => i === 0 || v >= buckets[i - 1][1]),
      'buckets are cumulative',
    );

    // the worker: one line per finished cycle and account, with its counts; the failure with its kind
    const lines = (sys.worker?.output() ?? '')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'cycle finished');
    const lineOf = (id: string) => {
      const found = lines.filter((l) => l.accountId === id);
      assert.equal(found.length, 1, `one line for ${id}`);
      return found[0];
    };
    assert.deepEqual(
      (({ protocol, outcome, delivered, quarantined, downloadedBytes, level }) => ({
        protocol,
        outcome,
        delivered,
        quarantined,
        downloadedBytes,
        level,
      }))(lineOf(pop3.id)),
      { protocol: 'pop3', outcome: 'ok', delivered: 2, quarantined: 0, downloadedBytes: sum(pop3Mail), level: 30 },
    );
    assert.equal(lineOf(imap.id).delivered, 1);
    assert.equal(lineOf(refused.id).quarantined, 1);
    const failure = lineOf(wrong.id);
    assert.equal(failure.level, 40, 'a failed cycle is a warning');
    assert.equal(failure.outcome, 'failed');
    assert.equal(failure.error.kind, 'auth');
    assert.equal(failure.service, 'worker');

    // the worker's own endpoint: the Temporal SDK's metrics of this task queue
    const sdk = samples(await (await fetch(`http://${workerMetrics}/metrics`)).text());
    const sdkCount = (prefix: string, activity: string) =>
      [...sdk]
        .filter(
          ([name]) =>
            name.startsWith(prefix) && name.includes(`task_queue="${sys.taskQueue}"`) && name.includes(`activity_type="${activity}"`),
        )
        .reduce((n, [, v]) => n + v, 0);
    assert.equal(sdkCount('temporal_activity_execution_latency_count', 'startCycle'), 4, 'one listing per account, none retried');
    assert.equal(sdkCount('temporal_activity_execution_latency_count', 'downloadBatch'), 3, 'one batch per account that logged in');
    assert.equal(sdkCount('temporal_activity_execution_failed', 'startCycle'), 0, 'the wrong password ended its cycle, recorded');
    assert.equal(sdkCount('temporal_activity_execution_latency_count', 'finishCycle'), 3, 'one status record per account with mail');
  });

  test('a cycle reported again, or twice at once, is counted once', async () => {
    const owner = await sys.localAccount('again@metrics.test');
    const user = await addUser('ma');
    const account = await sys.pop3Account(owner, user, { enabled: false });
    const status = {
      lastRun: {
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:42.000Z',
        outcome: 'ok' as const,
        delivered: 7,
        recognized: 0,
        held: 0,
        quarantined: 0,
        failed: 0,
        downloadedBytes: 700,
      },
      lastError: null,
    };
    const key = 'mailpull_messages_delivered_total{protocol="pop3"}';
    const before = (await scrape()).get(key) ?? NaN;
    const counted = await Promise.all([1, 2, 3].map(() => countFinishedCycle(sys.db.pool, account.id, status)));
    assert.equal(counted.filter((c) => c !== null).length, 1, 'one of three concurrent reports counts it');
    assert.equal(await countFinishedCycle(sys.db.pool, account.id, status), null, 'a retried report adds nothing');
    assert.equal((await scrape()).get(key), before + 7);
    const next = {
      ...status,
      lastRun: { ...status.lastRun, startedAt: '2026-01-01T00:05:00.000Z', finishedAt: '2026-01-01T00:05:01.000Z' },
    };
    assert.ok(await countFinishedCycle(sys.db.pool, account.id, next), 'the next run counts');
    assert.equal((await scrape()).get(key), before + 14);
  });

  test('a token is needed, one not limited to some domains; MAILPULL_METRICS_PUBLIC opens it', async () => {
    assert.equal((await sys.api('GET', '/metrics', undefined, null)).status, 401);
    await scrape(await sys.createToken('read'));
    const { domains } = await sys.ok('GET', '/api/domains');
    const scoped = newApiToken();
    await insertApiToken(sys.db.pool, {
      id: scoped.id,
      name: 'one domain',
      scope: 'admin',
      secretHash: scoped.secretHash,
      domainIds: [domains[0].id],
    });
    assert.equal((await sys.api('GET', '/metrics', undefined, scoped.token)).status, 403, "a domain's token sees no other domain's counts");

    const open = createApp(
      { pool: sys.db.pool, limits: { maxBodyBytes: 1024, requestsPerMinute: 60 } } as Parameters<typeof createApp>[0],
      () => undefined,
      { metricsPublic: true },
    );
    const res = await open.request('/metrics');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^mailpull_accounts\{state="ok"\} \d+$/m);
  });
});
