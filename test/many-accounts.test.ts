// test-file-timeout-ms: 540000
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { describe, test } from 'node:test';
import { bucketQuantile, histogram, parsePrometheus, percentile } from '../testkit/scale-metrics';
import type { StatusView } from '../api/workflow-control';
import { addUsers, countOnServer } from '../testkit/dovecot';
import { writeMaildir } from '../testkit/maildir';
import { unusedPort } from '../testkit/ports';
import { useTestSystem } from '../testkit/system';
import { waitFor } from '../testkit/env';

const ACCOUNTS = 300;
const PER_ACCOUNT = 3;

const message = (account: number, i: number): Buffer =>
  Buffer.from(
    `From: sender@remote.test\r\nTo: owner@many.test\r\nSubject: account ${account} message ${i}\r\nMessage-ID: <a${account}m${i}@many.test>\r\n\r\nbody ${account}/${i}\r\n`,
  );

interface Listed {
  id: string;
  state: string;
  recordedStatus: { lastRun: NonNullable<StatusView['lastRun']> | null } | null;
}

/** p50 / p90 / max of a list of milliseconds, in seconds. */
const spread = (values: readonly number[]): string =>
  [50, 90, 100].map((p) => `${(percentile(values, p) / 1000).toFixed(1)}`).join(' / ') + ' s';

describe('many accounts at once on one worker', () => {
  const sys = useTestSystem({ worker: false });

  // minutes on a loaded 2-core machine, hence the file's own limit above (scripts/test.sh)
  test(
    `${ACCOUNTS} external accounts (POP3 and IMAP) created together all finish their first cycle, each message stored once`,
    { timeout: 480_000 },
    async () => {
      const metrics = `127.0.0.1:${await unusedPort()}`;
      await sys.startWorker({ MAILPULL_WORKER_METRICS_ADDRESS: metrics });
      const owner = await sys.localAccount('owner@many.test');
      const setup = Date.now();
      const users = await addUsers('many', ACCOUNTS);
      for (let a = 0; a < ACCOUNTS; a += 20) {
        await Promise.all(users.slice(a, a + 20).map((user, i) => writeMaildir(user, PER_ACCOUNT, (m) => message(a + i, m))));
      }
      const started = Date.now();
      const createdAt: number[] = [];
      const externals = await Promise.all(
        users.map(async (user, a) => {
          const extra = { deletePolicy: 'immediately' };
          const external = await (a % 2 === 0 ? sys.pop3Account(owner, user, extra) : sys.imapAccount(owner, user, extra));
          createdAt[a] = Date.now();
          return external;
        }),
      );
      const created = Date.now();
      // One list query a second, answered from Postgres: a workflow query per account every
      // 200 ms (waitForCycles) would make the worker answer queries more than collect mail.
      const listed = await waitFor(
        'every first cycle recorded',
        async () => {
          const { externalAccounts } = await sys.ok<{ externalAccounts: Listed[] }>(
            'GET',
            `/api/external-accounts?ownerAccountId=${owner.id}&limit=1000`,
          );
          return externalAccounts.length === ACCOUNTS && externalAccounts.every((e) => e.recordedStatus?.lastRun) && externalAccounts;
        },
        360_000,
        1000,
      );
      const finished = Date.now();
      const runs = new Map(listed.map((e) => [e.id, e.recordedStatus?.lastRun]));
      const waits = externals.map((e, a) => Date.parse(runs.get(e.id)?.startedAt ?? '') - createdAt[a]);
      const cycles = externals.map((e) => Date.parse(runs.get(e.id)?.finishedAt ?? '') - Date.parse(runs.get(e.id)?.startedAt ?? ''));
      const samples = parsePrometheus(await (await fetch(`http://${metrics}/metrics`)).text());
      const latency = (base: string, queue: string) => {
        const name = samples.find((s) => s.name.startsWith(base) && s.name.endsWith('_bucket'))?.name.replace(/_bucket$/, '') ?? base;
        const buckets = histogram(samples, name, (l) => l.task_queue === queue);
        const at = (q: number) => bucketQuantile(buckets, q)?.value.toFixed(0) ?? 'n/a';
        return `${at(0.5)} / ${at(0.99)} ms`;
      };
      const worker = await readFile(`/proc/${sys.worker?.child.pid}/stat`, 'utf8');
      const [utime, stime] = worker
        .slice(worker.lastIndexOf(')') + 2)
        .split(' ')
        .slice(11, 13)
        .map(Number);
      const loopDelays = [...(sys.worker?.output() ?? '').matchAll(/event loop: max delay (\d+) ms/g)].map((m) => Number(m[1]));
      for (const line of [
        `${ACCOUNTS} accounts: Dovecot users and mailboxes in ${started - setup} ms; created through the API in ${created - started} ms; all first cycles done ${finished - started} ms after the first create`,
        `created → cycle started (workflow start, first task, loadSchedule) p50 / p90 / max ${spread(waits)}; cycle p50 / p90 / max ${spread(cycles)}`,
        `schedule-to-start p50 / p99: workflow tasks ${latency('temporal_workflow_task_schedule_to_start_latency', sys.taskQueue)}, activities ${latency('temporal_activity_schedule_to_start_latency', sys.taskQueue)}`,
        `worker CPU ${((utime + stime) / 100).toFixed(1)} s, event loop max delay ${Math.max(0, ...loopDelays)} ms; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      ]) {
        console.log(`# ${line}`);
      }
      const statuses = await Promise.all(externals.map((e) => sys.waitForCycles(e.id, 1)));
      for (const [a, status] of statuses.entries()) {
        assert.equal(status.lastError, null, `account ${a}: ${JSON.stringify(status.lastError)}`);
        assert.equal(status.counts.cycles, 1, `account ${a} ran one cycle, not more`);
        assert.equal(status.lastRun?.outcome, 'ok');
        assert.equal(status.lastRun?.delivered, PER_ACCOUNT, `account ${a} delivered its messages in its first cycle`);
      }
      const { rows } = await sys.db.pool.query<{ subject: string; n: string }>(
        'SELECT subject, count(*) AS n FROM messages WHERE account_id = $1 GROUP BY subject',
        [owner.id],
      );
      assert.equal(rows.length, ACCOUNTS * PER_ACCOUNT, 'every message arrived');
      assert.ok(
        rows.every((r) => r.n === '1'),
        'no message arrived twice',
      );
      const { externalAccounts: ok } = await sys.ok<{ externalAccounts: Listed[] }>(
        'GET',
        `/api/external-accounts?ownerAccountId=${owner.id}&state=ok&limit=1000`,
      );
      assert.equal(ok.length, ACCOUNTS, 'one query lists them all as ok');
      assert.ok(
        ok.every((e) => e.recordedStatus?.lastRun?.delivered === PER_ACCOUNT),
        'one query lists them all as ok, with their first run',
      );
      await waitFor(
        'every remote mailbox emptied',
        async () => (await Promise.all(users.map(countOnServer))).every((n) => n === 0),
        60_000,
      );
    },
  );
});
