import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DovecotUser } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { writeMaildir } from '../testkit/maildir';
import { unusedPort } from '../testkit/ports';
import { TestSystem } from '../testkit/system';
import { workflowIdFor } from '../workflows/definitions';
import { startWorker, type WorkerProcess } from '../testkit/worker-process';
import { loadConfig } from '../core/config';
import { formatCost } from '../testkit/engine-cost';
import {
  bucketQuantile,
  bucketsBetween,
  histogram,
  parsePrometheus,
  percentile,
  scaleVerdict,
  SCALE_GOALS,
  type Sample,
} from '../testkit/scale-metrics';
import { historyFigures } from '../testkit/scale-history';
import type { ScaleResult } from './scale-table';
import { cpuSecondsOf, startSampler, summarize } from './scale-sampler';

/**
 * One configuration of the scale run (npm run bench:scale, bench/scale.sh starts the servers):
 * SCALE_ACCOUNTS Dovecot users with a few messages each and as many external accounts created
 * through the API, on SCALE_WORKERS workers; then SCALE_INTERVALS intervals of
 * SCALE_INTERVAL_SECONDS, each starting with one new message dropped into every mailbox, and
 * Connect Now pressed for a sample of accounts in the last one. Prints a Markdown table, writes it
 * to .data/bench/ and, for the side-by-side table, its rows to SCALE_RESULT_FILE.
 */

const run = promisify(execFile);

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
};

const options = {
  accounts: int('SCALE_ACCOUNTS', 1000),
  intervalSeconds: int('SCALE_INTERVAL_SECONDS', 300),
  intervals: Math.max(1, int('SCALE_INTERVALS', 2)),
  /** messages in each mailbox before the accounts are created */
  messages: int('SCALE_MESSAGES', 3),
  /** accounts whose Connect Now is timed, in the last interval */
  connectSample: int('SCALE_CONNECT_SAMPLE', 50),
  /** IMAP accounts with push (IDLE), and the worker's IDLE budget */
  pushAccounts: int('SCALE_PUSH_ACCOUNTS', 60),
  idleBudget: int('SCALE_IDLE_BUDGET', 40),
  /** API requests in flight while creating */
  createConcurrency: Math.max(1, int('SCALE_CREATE_CONCURRENCY', 16)),
  sampleMs: Math.max(500, int('SCALE_SAMPLE_MS', 3000)),
  /** "ca": STARTTLS with the certificate checked against the test CA, as the tests do; "plain": no TLS */
  tls: process.env.SCALE_TLS === 'plain' ? ('plain' as const) : ('ca' as const),
  /** longest wait for every account's first cycle before the intervals start anyway */
  firstWaitSeconds: int('SCALE_FIRST_WAIT_SECONDS', 900),
  /** which Temporal: "dev" (the dev server, as npm start) or "cluster" (the Temporal server on PostgreSQL) */
  config: process.env.SCALE_CONFIG_NAME ?? 'dev',
  workers: Math.max(1, int('SCALE_WORKERS', 1)),
  /** accounts whose histories are read for actions, workflow tasks and lateness per cycle */
  historySample: int('SCALE_HISTORY_SAMPLE', 20),
};
if (options.intervalSeconds % 60 !== 0 || options.intervalSeconds === 0) {
  throw new Error('SCALE_INTERVAL_SECONDS must be whole minutes: accounts are created through the API (intervalMinutes)');
}

const WORKER_APP_NAME = 'mailpull-worker';
/** the first activity of a cycle: the folded cycle's, and listNew of histories before it */
const CYCLE_ACTIVITIES = ['startCycle', 'listNew'];
const DOMAIN = 'scale.test';
const OWNERS_PER = 10;
const log = (line: string): void => console.log(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `work` over the items with at most `limit` at once; the results in order. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

const messageOf = (subject: string): Buffer =>
  Buffer.from(
    [
      'From: Sender <sender@remote.example>',
      `To: owner@${DOMAIN}`,
      `Subject: ${subject}`,
      `Message-ID: <${subject.replace(/ /g, '.')}@${DOMAIN}>`,
      'Date: Tue, 24 Nov 2026 10:00:00 +0000',
      '',
      `The body of ${subject}.`,
      '',
    ].join('\r\n'),
  );

interface Mailbox {
  index: number;
  user: DovecotUser;
  protocol: 'pop3' | 'imap';
  push: boolean;
  externalId: string;
}

/** Dovecot users in bulk: one append to the passwd-file, then wait until Dovecot knows the last. */
async function addUsers(count: number): Promise<DovecotUser[]> {
  const users = Array.from({ length: count }, (_, i) => ({ name: `scale${i}`, password: randomBytes(9).toString('base64url') }));
  await appendFile(path.join(testEnv.dovecotDir(), 'passwd'), users.map((u) => `${u.name}:{PLAIN}${u.password}::::::\n`).join(''));
  const conf = path.join(testEnv.dovecotDir(), 'dovecot.conf');
  await waitFor('Dovecot to know the users', async () => {
    await run('doveadm', ['-c', conf, 'user', users[count - 1].name]);
    return true;
  });
  return users;
}

/** Drops messages into Maildirs the way an MTA does (tmp/, then renamed into new/). */
class Dropper {
  private sequence = 0;
  constructor(private readonly owner: { uid: number; gid: number }) {}

  async drop(user: DovecotUser, raw: Buffer): Promise<number> {
    const maildir = path.join(testEnv.dovecotDir(), 'home', user.name, 'Maildir');
    const name = `${Math.floor(Date.now() / 1000)}.M${++this.sequence}P${process.pid}.scale`;
    const tmp = path.join(maildir, 'tmp', name);
    // Dovecot keeps LF line endings in a Maildir and serves CRLF
    await writeFile(tmp, raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    await chown(tmp, this.owner.uid, this.owner.gid);
    await rename(tmp, path.join(maildir, 'new', name));
    return Date.now();
  }
}

async function mailOwner(): Promise<{ uid: number; gid: number }> {
  const id = async (flag: string) => Number((await run('id', [flag, 'mail'])).stdout.trim());
  return { uid: await id('-u'), gid: await id('-g') };
}

async function scrape(address: string): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(`http://${address}/metrics`)).text());
}

/** Stored-at times (Postgres clock, the row's delivered_at) of the messages whose subject starts with the prefix. */
async function storedTimes(sys: TestSystem, prefix: string): Promise<Map<string, number>> {
  const { rows } = await sys.db.pool.query<{ subject: string; at: Date }>(
    'SELECT subject, min(delivered_at) AS at FROM messages WHERE subject LIKE $1 GROUP BY subject',
    [`${prefix}%`],
  );
  return new Map(rows.map((r) => [r.subject, r.at.getTime()]));
}

const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
const sec = (v: number): string => `${(v / 1000).toFixed(1)} s`;
const pct = (n: number, of: number): string => (of === 0 ? 'n/a' : `${((100 * n) / of).toFixed(1)} % (${n} of ${of})`);

/**
 * Where the time went for an account collected late: its workflow's events from a little before
 * the drop, as seconds from the drop (timers with their duration, activities with their type).
 */
async function timeline(sys: TestSystem, externalId: string, droppedAt: number): Promise<string> {
  const history = await sys.client.workflow.getHandle(workflowIdFor(externalId)).fetchHistory();
  const parts: string[] = [];
  const scheduled = new Map<string, string>();
  for (const event of history.events ?? []) {
    const at = Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6);
    const kind = Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k]) ?? '?';
    const id = String(event.eventId);
    const attributes = (event as Record<string, any>)[kind];
    const type = attributes?.activityType?.name as string | undefined;
    if (type) scheduled.set(id, type);
    if (at < droppedAt - 60_000 || kind.startsWith('workflowTask')) continue;
    const detail =
      type ??
      (attributes?.scheduledEventId ? scheduled.get(String(attributes.scheduledEventId)) : undefined) ??
      (attributes?.startToFireTimeout ? `${Number(attributes.startToFireTimeout.seconds)} s` : '');
    parts.push(`${((at - droppedAt) / 1000).toFixed(1)} ${kind.replace('EventAttributes', '')}${detail ? `(${detail})` : ''}`);
  }
  return parts.join(', ');
}

/** The pid a server's pid file names (its first line), for its CPU; none when the file is not set. */
async function pidFrom(variable: string): Promise<number[]> {
  const file = process.env[variable];
  if (!file) return [];
  const pid = Number((await readFile(file, 'utf8')).split('\n')[0].trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${variable} (${file}) names no pid`);
  return [pid];
}

async function main(workers: WorkerProcess[]): Promise<void> {
  const t0 = Date.now();
  const loadAtStart = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const workerEnv = (metricsAddress: string): Record<string, string> => ({
    MAILPULL_WORKER_METRICS_ADDRESS: metricsAddress,
    MAILPULL_MAX_IDLE_WATCHES: String(options.idleBudget),
    MAILPULL_LOOP_REPORT_SECONDS: process.env.MAILPULL_LOOP_REPORT_SECONDS ?? '30',
    PGAPPNAME: WORKER_APP_NAME,
  });
  const metricsAddresses: string[] = [];
  for (let k = 0; k < options.workers; k++) metricsAddresses.push(`127.0.0.1:${await unusedPort()}`);
  const sys = await TestSystem.start({ worker: false });
  for (const address of metricsAddresses) {
    workers.push(
      await startWorker(sys.db.url, sys.taskQueue, { MAILPULL_SECRET_KEY_FILE: sys.keyFile, ...sys.temporalEnv, ...workerEnv(address) }),
    );
  }
  const workerPids = workers.map((w) => w.child.pid ?? 0);
  if (workerPids.includes(0)) throw new Error('a worker did not start');
  const { maxCachedWorkflows } = loadConfig({
    ...process.env,
    DATABASE_URL: sys.db.url,
    MAILPULL_TASK_QUEUE: sys.taskQueue,
    MAILPULL_SECRET_KEY_FILE: sys.keyFile,
  });
  const parts = {
    workers: workerPids,
    Temporal: await pidFrom('SCALE_TEMPORAL_PIDFILE'),
    PostgreSQL: await pidFrom('SCALE_PG_PIDFILE'),
    Dovecot: await pidFrom('SCALE_DOVECOT_PIDFILE'),
  };
  const maxConnections = Number((await sys.db.pool.query<{ max_connections: string }>('SHOW max_connections')).rows[0].max_connections);
  const sampler = startSampler(workerPids, sys.db.pool, WORKER_APP_NAME, options.sampleMs);
  log(`${options.config}: worker pids ${workerPids.join(', ')}; ${JSON.stringify(options)}`);

  const users = await addUsers(options.accounts);
  await inParallel(users, 16, (user, i) => writeMaildir(user, options.messages, (m) => messageOf(`initial a${i} m${m}`)));
  log(`${options.accounts} Dovecot users with ${options.messages} messages each after ${sec(Date.now() - t0)}`);

  await sys.ok('POST', '/api/domains', { name: DOMAIN });
  const owners = await inParallel(Array.from({ length: Math.ceil(options.accounts / OWNERS_PER) }), options.createConcurrency, (_, k) =>
    sys.ok<{ id: string }>('POST', '/api/accounts', { address: `owner${k}@${DOMAIN}` }),
  );
  const pushEvery = options.pushAccounts > 0 ? Math.max(1, Math.floor(options.accounts / 2 / options.pushAccounts)) : Infinity;
  let pushLeft = options.pushAccounts;
  const plan = users.map((user, i) => {
    const protocol: 'pop3' | 'imap' = i % 2 === 0 ? 'pop3' : 'imap';
    const push = protocol === 'imap' && pushLeft > 0 && Math.floor(i / 2) % pushEvery === 0;
    if (push) pushLeft--;
    return { user, protocol, push };
  });
  const createLatencies: number[] = [];
  const createStart = Date.now();
  const mailboxes: Mailbox[] = await inParallel(plan, options.createConcurrency, async ({ user, protocol, push }, i) => {
    const started = Date.now();
    const extra = {
      intervalMinutes: options.intervalSeconds / 60,
      push,
      ...(options.tls === 'plain' ? { tlsMode: 'disabled', tlsCa: null } : {}),
    };
    const owner = owners[Math.floor(i / OWNERS_PER)];
    const created = protocol === 'pop3' ? await sys.pop3Account(owner, user, extra) : await sys.imapAccount(owner, user, extra);
    createLatencies.push(Date.now() - started);
    return { index: i, user, protocol, push, externalId: created.id };
  });
  const createMs = Date.now() - createStart;
  log(`${options.accounts} external accounts created through the API in ${sec(createMs)}`);

  // every account's first cycle: all its initial messages stored
  const firstDeadline = Date.now() + options.firstWaitSeconds * 1000;
  let firstDone: number;
  for (;;) {
    const { rows } = await sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM (SELECT external_account_id FROM messages GROUP BY 1 HAVING count(*) >= $1) s',
      [options.messages],
    );
    firstDone = rows[0].n;
    if (firstDone >= options.accounts || Date.now() > firstDeadline) break;
    await sleep(2000);
  }
  const firstCyclesMs = Date.now() - createStart;
  log(`${firstDone} of ${options.accounts} accounts stored their initial messages ${sec(firstCyclesMs)} after the first create`);

  const dropper = new Dropper(await mailOwner());
  const intervalMs = options.intervalSeconds * 1000;
  const scrapeAll = async (): Promise<Sample[]> => (await Promise.all(metricsAddresses.map(scrape))).flat();
  const startSamples = await scrapeAll();
  const cpuAtStart = await cpuSecondsOf(parts);
  const measureStart = Date.now();
  const drops = new Map<string, number>(); // subject → dropped at
  const connect: { subject: string; pressedAt: number }[] = [];
  const sample = mailboxes.filter((m) => !m.push);
  const chosen = Array.from(
    { length: Math.min(options.connectSample, sample.length) },
    (_, k) => sample[Math.floor((k * sample.length) / Math.min(options.connectSample, sample.length))],
  );
  for (let k = 1; k <= options.intervals; k++) {
    const intervalStart = measureStart + (k - 1) * intervalMs;
    await sleep(Math.max(0, intervalStart - Date.now()));
    await inParallel(mailboxes, 32, async (m) => {
      const subject = `scale a${m.index} i${k}`;
      drops.set(subject, await dropper.drop(m.user, messageOf(subject)));
    });
    log(`interval ${k}: one message dropped into each of ${mailboxes.length} mailboxes in ${sec(Date.now() - intervalStart)}`);
    if (k === options.intervals && chosen.length > 0) {
      await sleep(Math.max(0, intervalStart + intervalMs / 2 - Date.now()));
      // one press every 500 ms: each is timed alone, under the collection's load
      for (const m of chosen) {
        const subject = `connect a${m.index}`;
        await dropper.drop(m.user, messageOf(subject));
        const pressedAt = Date.now();
        await sys.ok('POST', `/api/external-accounts/${m.externalId}/connect-now`, undefined, 202);
        connect.push({ subject, pressedAt });
        await sleep(500);
      }
      log(`Connect Now pressed for ${chosen.length} accounts`);
    }
  }
  const lastDrop = measureStart + (options.intervals - 1) * intervalMs;
  const deadline = lastDrop + intervalMs * 1.1;
  await sleep(Math.max(0, deadline - Date.now()));
  // stragglers are waited for a little longer, to say how late they were
  const graceEnd = Date.now() + Math.min(120_000, intervalMs * 0.2);
  let stored = await storedTimes(sys, 'scale ');
  while (stored.size < drops.size && Date.now() < graceEnd) {
    await sleep(2000);
    stored = await storedTimes(sys, 'scale ');
  }
  const measureEnd = Date.now();
  const cpuAtEnd = await cpuSecondsOf(parts);
  const endSamples = await scrapeAll();
  const connectStored = await storedTimes(sys, 'connect ');
  const processSamples = await sampler.stop();
  const loadAtEnd = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

  let within = 0;
  const delays: number[] = [];
  const late: { subject: string; droppedAt: number; at: number | undefined }[] = [];
  for (const [subject, droppedAt] of drops) {
    const at = stored.get(subject);
    if (at !== undefined) delays.push(at - droppedAt);
    if (at !== undefined && at <= droppedAt + intervalMs * 1.1) within++;
    else late.push({ subject, droppedAt, at });
  }
  const byIndex = new Map(mailboxes.map((m) => [m.index, m]));
  const lateOf = (m: Mailbox) => `${m.protocol}${m.push ? '+push' : ''}`;
  const lateKinds = new Map<string, number>();
  for (const l of late) {
    const m = byIndex.get(Number(/a(\d+)/.exec(l.subject)?.[1]));
    if (m) lateKinds.set(lateOf(m), (lateKinds.get(lateOf(m)) ?? 0) + 1);
  }
  for (const l of late.slice(0, 5)) {
    const m = byIndex.get(Number(/a(\d+)/.exec(l.subject)?.[1]));
    if (!m) continue;
    const when = l.at === undefined ? 'not stored' : `stored after ${sec(l.at - l.droppedAt)}`;
    log(
      `late: ${l.subject} (${lateOf(m)}, ${m.externalId}) ${when}; events from the drop: ${await timeline(sys, m.externalId, l.droppedAt).catch((e: unknown) => String(e))}`,
    );
  }
  const connectLatencies = connect.flatMap((c) => {
    const at = connectStored.get(c.subject);
    return at === undefined ? [] : [at - c.pressedAt];
  });

  const latency = (name: string, match?: (l: Record<string, string>) => boolean) => {
    const buckets = bucketsBetween(histogram(startSamples, name, match), histogram(endSamples, name, match));
    const at = (q: number) => bucketQuantile(buckets, q);
    const show = (q: number) => {
      const v = at(q);
      return v === null ? 'n/a' : `${v.beyond ? '> ' : ''}${ms(v.value)}`;
    };
    return {
      text: `${show(0.5)} / ${show(0.99)} (${buckets.at(-1)?.[1] ?? 0} tasks)`,
      p99: at(0.99)?.value ?? null,
      count: buckets.at(-1)?.[1] ?? 0,
    };
  };
  const metricName = (base: string) =>
    endSamples.find((s) => s.name.startsWith(base) && s.name.endsWith('_bucket'))?.name.replace(/_bucket$/, '') ?? base;
  const counter = (base: string): number => {
    const sum = (samples: Sample[]) =>
      samples.filter((s) => s.name === base || s.name === `${base}_total`).reduce((a, s) => a + s.value, 0);
    return sum(endSamples) - sum(startSamples);
  };
  const gauge = (base: string): number => endSamples.filter((s) => s.name === base).reduce((a, s) => a + s.value, 0);
  const wftLatency = latency(metricName('temporal_workflow_task_schedule_to_start_latency'));
  const mainQueue = (l: Record<string, string>) => l.task_queue === sys.taskQueue;
  const idleQueue = (l: Record<string, string>) => l.task_queue === `${sys.taskQueue}-idle`;
  const actLatency = latency(metricName('temporal_activity_schedule_to_start_latency'), mainQueue);
  const cycleStart = (l: Record<string, string>) => CYCLE_ACTIVITIES.includes(l.activity_type);
  const cycles = latency(metricName('temporal_activity_execution_latency'), cycleStart).count;
  const cacheHits = counter('temporal_sticky_cache_hit');
  const cacheMisses = counter('temporal_sticky_cache_miss');
  const whole = summarize(processSamples, t0, measureEnd + 1);
  const steady = summarize(processSamples, measureStart, measureEnd + 1);
  const loopDelays = workers.flatMap((w) => [...w.output().matchAll(/event loop: max delay (\d+) ms/g)].map((m) => Number(m[1])));
  const imap = mailboxes.filter((m) => m.protocol === 'imap').length;
  const windowSeconds = (measureEnd - measureStart) / 1000;
  const cpuSeconds = Object.fromEntries(Object.keys(parts).map((part) => [part, cpuAtEnd[part] - cpuAtStart[part]]));

  // actions, workflow tasks and lateness per cycle, from the histories of accounts spread over the run
  const sampled = Array.from(
    { length: Math.min(options.historySample, mailboxes.length) },
    (_, k) => mailboxes[Math.floor((k * mailboxes.length) / Math.min(options.historySample, mailboxes.length))],
  );
  const figures = await inParallel(sampled, 4, async (m) =>
    historyFigures(
      (await sys.client.workflow.getHandle(workflowIdFor(m.externalId)).fetchHistory()).events ?? [],
      measureStart,
      measureEnd,
    ),
  );
  const costs = figures.flatMap((f) => f.cycles);
  const lateness = figures.flatMap((f) => f.lateness);
  const perCycle = (pick: (c: (typeof costs)[number]) => number) =>
    costs.length ? costs.reduce((a, c) => a + pick(c), 0) / costs.length : NaN;
  const leanest = costs.length ? costs.reduce((a, c) => (c.actions < a.actions ? c : a)) : null;
  const neededPerSecond = options.accounts / options.intervalSeconds;
  // a press whose message was not stored by the end counts as infinitely late
  const connectP99 = percentile([...connectLatencies, ...Array<number>(connect.length - connectLatencies.length).fill(Infinity)], 99);
  const verdict = scaleVerdict({
    cores: os.cpus().length,
    windowSeconds,
    cpuSeconds,
    withinShare: drops.size ? within / drops.size : NaN,
    connectP99Ms: connect.length ? connectP99 : 0,
    workerRssPeakMb: whole.rssPeakMb,
    workflowTaskScheduleToStartP99Ms: wftLatency.p99,
    activityScheduleToStartP99Ms: actLatency.p99,
    cacheHits,
    cacheMisses,
    cacheSize: maxCachedWorkflows,
    pgConnectionsPeak: whole.pgAllPeak,
    pgMaxConnections: maxConnections,
  });

  const rows: [string, string][] = [
    [
      'Temporal',
      options.config === 'cluster'
        ? 'the Temporal server on PostgreSQL (npm run start:cluster)'
        : `the dev server (npm start); options: ${process.env.SCALE_TEMPORAL_ARGS_USED || '(as npm start runs it)'}`,
    ],
    ['workers', String(options.workers)],
    [
      'accounts',
      `${options.accounts} (${options.accounts - imap} POP3, ${imap} IMAP of which ${options.pushAccounts - pushLeft} with push)`,
    ],
    ['TLS', options.tls === 'plain' ? 'none (plaintext on loopback)' : 'STARTTLS, certificate checked against an account CA'],
    ['interval × intervals', `${options.intervalSeconds} s × ${options.intervals}, one new message per mailbox per interval`],
    [
      'create the accounts through the API',
      `${sec(createMs)} (${((options.accounts * 1000) / createMs).toFixed(0)}/s, ${options.createConcurrency} in flight; per request p50 ${ms(percentile(createLatencies, 50))}, p99 ${ms(percentile(createLatencies, 99))})`,
    ],
    ['first cycle of every account done', `${firstDone} of ${options.accounts}, ${sec(firstCyclesMs)} after the first create`],
    [
      'cycles/s achieved / needed (intervals)',
      `${(cycles / windowSeconds).toFixed(2)} / ${neededPerSecond.toFixed(2)} (${cycles} cycles in ${windowSeconds.toFixed(0)} s)`,
    ],
    [
      'collected within interval + 10 % (goal ≥ 99 %)',
      `${pct(within, drops.size)}${late.length ? `; late: ${[...lateKinds].map(([k, n]) => `${n} ${k}`).join(', ')}` : ''}`,
    ],
    [
      'cycle start after its timer was due p50 / p99 / max (sampled histories)',
      `${ms(percentile(lateness, 50))} / ${ms(percentile(lateness, 99))} / ${lateness.length ? ms(Math.max(...lateness)) : 'n/a'}; ${pct(lateness.filter((l) => l <= intervalMs * 0.1).length, lateness.length)} within 10 % of the interval`,
    ],
    [
      'dropped → stored p50 / p99 / max',
      `${sec(percentile(delays, 50))} / ${sec(percentile(delays, 99))} / ${sec(Math.max(0, ...delays))}; ${drops.size - stored.size} not stored by the end`,
    ],
    [
      'Connect Now → message stored p50 / p99 (goal p99 < 5 s)',
      `${ms(percentile(connectLatencies, 50))} / ${Number.isFinite(connectP99) ? ms(connectP99) : 'not stored'} (${connectLatencies.length} of ${connect.length} stored)`,
    ],
    [
      'actions / workflow tasks per cycle (sampled histories)',
      costs.length
        ? `${perCycle((c) => c.actions).toFixed(2)} / ${perCycle((c) => c.workflowTasks).toFixed(2)} (${costs.length} cycles of ${sampled.length} accounts; leanest: ${leanest ? formatCost(leanest) : 'n/a'})`
        : 'n/a (no cycle of the sampled accounts in the window)',
    ],
    ...Object.keys(parts).map((part): [string, string] => [
      `CPU per cycle: ${part}`,
      cycles
        ? `${((cpuSeconds[part] / cycles) * 1000).toFixed(1)} ms (${cpuSeconds[part].toFixed(1)} s in the window = ${(cpuSeconds[part] / windowSeconds).toFixed(2)} cores)`
        : `n/a (${cpuSeconds[part].toFixed(1)} s in the window)`,
    ]),
    [
      `worker RSS peak / mean (intervals; goal < ${SCALE_GOALS.workerRssMb} MB)`,
      `${steady.rssPeakMb.toFixed(0)} MB / ${steady.rssMeanMb.toFixed(0)} MB`,
    ],
    ['worker RSS peak (whole run)', `${whole.rssPeakMb.toFixed(0)} MB`],
    ['worker CPU peak / mean (intervals, % of one core, all workers)', `${steady.cpuPeak.toFixed(0)} % / ${steady.cpuMean.toFixed(0)} %`],
    ['worker CPU peak / mean (whole run)', `${whole.cpuPeak.toFixed(0)} % / ${whole.cpuMean.toFixed(0)} %`],
    [
      'PostgreSQL connections peak: workers / Temporal / all',
      `${whole.pgWorkerPeak} / ${whole.pgTemporalPeak} / ${whole.pgAllPeak} of max_connections ${maxConnections}`,
    ],
    [
      'workflow cache: size / held at the end / hits / misses (intervals)',
      `${maxCachedWorkflows} per worker (MAILPULL_MAX_CACHED_WORKFLOWS) / ${gauge('temporal_sticky_cache_size')} / ${cacheHits} / ${cacheMisses}`,
    ],
    ['workflow-task execution p50 / p99 (intervals)', latency(metricName('temporal_workflow_task_execution_latency')).text],
    ['workflow-task replay p50 / p99 (intervals)', latency(metricName('temporal_workflow_task_replay_latency')).text],
    ['workflow-task schedule-to-start p50 / p99 (intervals)', wftLatency.text],
    ['activity schedule-to-start p50 / p99 (intervals, collection queue)', actLatency.text],
    [
      'IDLE watch schedule-to-start p50 / p99 (intervals, IDLE queue)',
      latency(metricName('temporal_activity_schedule_to_start_latency'), idleQueue).text,
    ],
    ['worker event loop max delay (30 s reports)', loopDelays.length ? `${Math.max(...loopDelays)} ms` : 'n/a'],
    ['goals missed', verdict.missed.join('; ') || 'none'],
    ['what ran out', verdict.causes.join('; ') || '-'],
    ['machine', `${os.cpus().length} cores; load average ${loadAtStart} at start, ${loadAtEnd} at end`],
  ];
  const environment = `${
    Object.entries(process.env)
      .filter(([k]) => k.startsWith('MAILPULL_') && !k.startsWith('MAILPULL_TEST_') && !k.includes('SECRET'))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'defaults'
  } MAILPULL_MAX_IDLE_WATCHES=${options.idleBudget}`;
  const table = [
    `# mailpull scale run (${options.config}), ${new Date(t0).toISOString()}`,
    '',
    '| figure | value |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Worker environment: ${environment}`,
    '',
  ].join('\n');
  console.log(`\n${table}`);
  const outDir = path.join(process.env.MAILPULL_DATA_DIR ?? path.resolve(__dirname, '../../.data'), 'bench');
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `scale-${options.config}-${options.accounts}-${new Date(t0).toISOString().replace(/[:.]/g, '-')}.md`);
  await writeFile(file, table);
  if (process.env.SCALE_RESULT_FILE) {
    const result: ScaleResult = { config: options.config, at: new Date(t0).toISOString(), rows, environment };
    await writeFile(process.env.SCALE_RESULT_FILE, JSON.stringify(result));
  }
  const csv = processSamples.map((p) =>
    [
      ((p.at - t0) / 1000).toFixed(1),
      (p.rssBytes / 1048576).toFixed(1),
      p.cpuPercent?.toFixed(1) ?? '',
      p.pgWorker,
      p.pgTemporal,
      p.pgAll,
    ].join(','),
  );
  await writeFile(
    file.replace(/\.md$/, '.samples.csv'),
    ['seconds,rss_mb_max_worker,cpu_percent_workers,pg_workers,pg_temporal,pg_all', ...csv, ''].join('\n'),
  );
  log(`written to ${file} (samples beside it)`);
}

// the workers are stopped on the way out, also after a failure or when the run is stopped
// (bench/scale.sh sends SIGTERM when it fails or is stopped): nothing the run started outlives it
const workers: WorkerProcess[] = [];
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void Promise.all(workers.map((w) => w.kill())).then(() => process.exit(1)));
}
void main(workers)
  .then(
    () => 0,
    (err: unknown) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    await Promise.all(workers.map((w) => w.stop()));
    process.exit(code);
  });
