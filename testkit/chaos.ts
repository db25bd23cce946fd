import { randomBytes } from 'node:crypto';
import { chown, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addUser, type DovecotUser } from './dovecot';
import { testEnv } from './env';
import { freezePostgres, freezeTemporal, killWorker, restartDovecot, restartPostgres, restartTemporal } from './faults';
import { textOfSize } from './messages';
import { TestSystem } from './system';
import { startProxy, type TcpProxy } from './tcp-proxy';
import type { WorkerProcess } from './worker-process';

export type FaultKind =
  | 'kill-worker'
  | 'restart-postgres'
  | 'restart-temporal'
  | 'restart-dovecot'
  | 'stop-postgres'
  | 'stop-temporal'
  | 'cut-retr'
  | 'cut-fetch';
export const FAULT_KINDS: readonly FaultKind[] = [
  'kill-worker',
  'restart-postgres',
  'restart-temporal',
  'restart-dovecot',
  'stop-postgres',
  'stop-temporal',
  'cut-retr',
  'cut-fetch',
];

export interface ChaosOptions {
  accounts: number;
  messages: number;
  /** how long faults are injected */
  faultSeconds: number;
  /** the pause between two faults is drawn from this range */
  gapMs: [number, number];
  /** how long a stopped (SIGSTOP) server stays stopped is drawn from this range */
  stopMs: [number, number];
  /** after the faults, how long the accounts may take to collect everything */
  settleSeconds: number;
  kinds: readonly FaultKind[];
  /** where every worker process's output is written, one file each */
  logDir: string;
  log: (line: string) => void;
}

export interface FaultRecord {
  kind: FaultKind;
  /** seconds since the faults began */
  at: number;
  ms: number;
  /** false: the fault could not be injected (e.g. no transfer to cut came along) */
  injected: boolean;
  detail: string;
}

export interface WorkerExit {
  pid: number | null;
  at: number;
  code: number | null;
  signal: string | null;
  /** we killed it */
  expected: boolean;
  tail: string;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log' | 'logDir'>;
  logDir: string;
  faults: FaultRecord[];
  workerExits: WorkerExit[];
  messages: number;
  stored: number;
  duplicates: { marker: string; copies: number }[];
  /** not stored and no longer on the server */
  lost: string[];
  /** left the server while not stored (seen absent twice in a row, the store checked in between) */
  vanishedUnstored: { marker: string; at: number }[];
  stillOnServer: number;
  settled: boolean;
  /** the worker did not end within 10 s of SIGTERM at the end of the run */
  stopNeededKill: boolean;
  accountsWithoutCleanCycle: { id: string; protocol: string; phase: string; lastRun: string; lastError: string }[];
  setupSeconds: number;
  settleSeconds: number;
  commands: { pop3: Record<string, number>; imap: Record<string, number> };
  /** the worker log lines about errors, digits folded, most frequent first */
  workerErrors: { line: string; count: number }[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1));

function chaosMessage(marker: string, bodyBytes: number): Buffer {
  const head = [
    'From: Chaos <chaos@remote.example>',
    'To: owner@chaos.test',
    `Subject: chaos ${marker}`,
    `Message-ID: <${marker}@chaos.test>`,
    'Date: Tue, 24 Nov 2026 10:00:00 +0000',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`), textOfSize(bodyBytes)]);
}

interface Mailbox {
  user: DovecotUser;
  protocol: 'pop3' | 'imap';
  maildir: string;
  externalId: string;
}

/** What is on the Dovecot side: the Maildir files we put there, and which of them left while not yet stored. */
class ServerWatch {
  /** Maildir base name (before ":") → marker */
  private readonly markers = new Map<string, string>();
  private readonly present = new Map<string, Mailbox>();
  /** absent once and not stored when checked: confirmed if absent on the next scan too */
  private suspects = new Map<string, number>();
  readonly vanishedUnstored: { marker: string; at: number }[] = [];
  private sequence = 0;

  constructor(
    private readonly stored: (markers: string[]) => Promise<Set<string>>,
    private readonly since: () => number,
  ) {}

  /** Delivers messages into the mailbox the way an MTA does: written into tmp/, renamed into new/. */
  async put(box: Mailbox, messages: { marker: string; raw: Buffer }[]): Promise<void> {
    for (const { marker, raw } of messages) {
      const name = `${Math.floor(Date.now() / 1000)}.M${++this.sequence}P${process.pid}.chaos`;
      const tmp = path.join(box.maildir, 'tmp', name);
      // Dovecot stores LF line endings in Maildir and serves CRLF
      await writeFile(tmp, raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
      await chown(tmp, 8, 8);
      this.markers.set(name, marker);
      this.present.set(name, box);
      await rename(tmp, path.join(box.maildir, 'new', name));
    }
  }

  async prepare(box: Mailbox): Promise<void> {
    for (const sub of ['', 'new', 'cur', 'tmp']) await mkdir(path.join(box.maildir, sub), { recursive: true });
    for (const p of [path.dirname(box.maildir), box.maildir, ...['new', 'cur', 'tmp'].map((s) => path.join(box.maildir, s))])
      await chown(p, 8, 8);
  }

  /** base names of the messages in a mailbox now; new/ before cur/, as Dovecot moves them that way */
  async listing(box: Mailbox): Promise<Set<string>> {
    const names = new Set<string>();
    for (const sub of ['new', 'cur']) {
      for (const file of await readdir(path.join(box.maildir, sub)).catch(() => [] as string[])) names.add(file.split(':')[0]);
    }
    return names;
  }

  async scan(boxes: readonly Mailbox[]): Promise<void> {
    const listings = new Map<Mailbox, Set<string>>();
    for (const box of boxes) listings.set(box, await this.listing(box));
    const gone: string[] = [];
    for (const [name, box] of this.present) if (!listings.get(box)?.has(name)) gone.push(name);
    const confirmed = new Map<string, number>();
    for (const [name, at] of this.suspects) if (gone.includes(name)) confirmed.set(name, at);
    let storedNow: Set<string>;
    try {
      storedNow = await this.stored(gone.map((n) => this.markers.get(n) ?? ''));
    } catch {
      return; // the store is restarting: look again on the next scan
    }
    const suspects = new Map<string, number>();
    for (const name of gone) {
      const marker = this.markers.get(name) ?? '';
      if (storedNow.has(marker)) {
        this.present.delete(name);
      } else if (confirmed.has(name)) {
        this.present.delete(name);
        this.vanishedUnstored.push({ marker, at: confirmed.get(name) ?? 0 });
      } else {
        suspects.set(name, this.since());
      }
    }
    this.suspects = suspects;
  }

  async onServer(boxes: readonly Mailbox[]): Promise<Set<string>> {
    const markers = new Set<string>();
    for (const box of boxes) for (const name of await this.listing(box)) markers.add(this.markers.get(name) ?? name);
    return markers;
  }
}

/** Keeps one worker process running, as a supervisor would, and records every exit. */
class WorkerKeeper {
  readonly exits: WorkerExit[] = [];
  readonly outputs: string[] = [];
  private current: WorkerProcess | null = null;
  private readonly expected = new Set<number>();
  private stopping = false;
  private restarting: Promise<void> | null = null;
  /** the last worker did not end on SIGTERM within 10 s */
  stopNeededKill = false;

  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly sys: TestSystem,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly since: () => number,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    for (let delay = 1_000; !this.stopping; delay = Math.min(delay * 2, 10_000)) {
      try {
        const worker = await this.sys.startWorker(this.env);
        this.watch(worker);
        return;
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        this.exits.push({ pid: null, at: this.since(), code: null, signal: null, expected: false, tail: text.slice(-1500) });
        this.keep(`worker-${this.outputs.length}-start-failed.log`, text);
        this.log(`worker failed to start: ${text.split('\n')[0]}; again in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  private keep(file: string, output: string): void {
    this.outputs.push(output);
    this.written = this.written.then(() => writeFile(path.join(this.logDir, file), output)).catch(() => undefined);
  }

  private watch(worker: WorkerProcess): void {
    this.current = worker;
    const pid = worker.child.pid ?? null;
    worker.child.once('exit', (code, signal) => {
      const expected = pid !== null && this.expected.has(pid);
      this.exits.push({ pid, at: this.since(), code, signal, expected, tail: worker.output().slice(-1500) });
      this.keep(`worker-${this.outputs.length}-pid${pid ?? 'none'}.log`, worker.output());
      if (!expected && !this.stopping) {
        this.log(`worker ${pid} exited by itself (code ${code}, signal ${signal}); starting another`);
        this.restarting = sleep(1_000).then(() => this.start());
      }
    });
  }

  async kill(): Promise<void> {
    await this.restarting;
    const worker = this.current;
    if (!worker) return;
    if (worker.child.pid !== undefined) this.expected.add(worker.child.pid);
    await killWorker(worker);
    await this.start();
  }

  /** SIGTERM, and SIGKILL if the worker has not finished 10 s later, as npm start's supervisor does. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.restarting;
    const worker = this.current;
    if (worker?.child.pid !== undefined) this.expected.add(worker.child.pid);
    if (worker) {
      const stopped = worker.stop().then(() => true);
      if (!(await Promise.race([stopped, sleep(10_000).then(() => false)]))) {
        this.stopNeededKill = true;
        this.log(`worker ${worker.child.pid ?? '-'} still running 10 s after SIGTERM: SIGKILL`);
        await worker.kill();
      }
    }
    await this.written;
  }
}

function errorLines(outputs: readonly string[]): { line: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const output of outputs) {
    for (const raw of output.split('\n')) {
      if (!/error|fail|exception|warn/i.test(raw)) continue;
      const line = raw.replace(/\d+/g, 'N').slice(0, 220);
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([line, count]) => ({ line, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, 25);
}

/**
 * The chaos run: many POP3 and IMAP accounts (delete policy "immediately", through proxies that
 * can cut transfers) collect while the worker is killed, Postgres, Temporal and Dovecot restart
 * and Postgres and Temporal hang (SIGSTOP, then SIGCONT) at random; then, without faults, until
 * every account has had a clean cycle.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options;
  const began = Date.now();
  let faultsStart = Date.now();
  const since = (): number => Math.round((Date.now() - faultsStart) / 100) / 10;
  const sys = await TestSystem.start({ worker: false });
  const pop3Proxy = await startProxy(testEnv.pop3Port(), 0, 'pop3');
  const imapProxy = await startProxy(testEnv.imapPort(), 0, 'imap');
  await mkdir(options.logDir, { recursive: true });
  const keeper = new WorkerKeeper(sys, { MAILPULL_COMMIT_MESSAGES: '10', MAILPULL_BATCH_MESSAGES: '50' }, options.logDir, since, log);
  const storedCounts = async (): Promise<Map<string, number>> => {
    const { rows } = await sys.db.pool.query<{ message_id: string | null; n: string }>(
      'SELECT message_id, count(*) AS n FROM messages GROUP BY 1',
    );
    return new Map(rows.map((r) => [(r.message_id ?? '').replace(/^<|@chaos\.test>$/g, ''), Number(r.n)]));
  };
  const watch = new ServerWatch(async (markers) => {
    if (markers.length === 0) return new Set();
    const { rows } = await sys.db.pool.query<{ message_id: string }>(
      'SELECT DISTINCT message_id FROM messages WHERE message_id = ANY($1)',
      [markers.map((m) => `<${m}@chaos.test>`)],
    );
    return new Set(rows.map((r) => r.message_id.replace(/^<|@chaos\.test>$/g, '')));
  }, since);
  const run = randomBytes(3).toString('hex');
  const perAccount = Math.ceil(options.messages / options.accounts);
  const boxes: Mailbox[] = [];
  const pending = new Map<Mailbox, { marker: string; raw: Buffer }[]>();
  let total = 0;
  try {
    await keeper.start();
    const owner = await sys.localAccount('owner@chaos.test');
    for (let a = 0; a < options.accounts; a++) {
      const protocol = a % 2 === 0 ? 'pop3' : 'imap';
      const user = await addUser('chaos');
      const box: Mailbox = { user, protocol, maildir: path.join(testEnv.dovecotDir(), 'home', user.name, 'Maildir'), externalId: '' };
      await watch.prepare(box);
      const messages: { marker: string; raw: Buffer }[] = [];
      for (let m = 0; m < perAccount && total < options.messages; m++, total++) {
        const marker = `chaos-${run}-a${a}-m${m}`;
        messages.push({ marker, raw: chaosMessage(marker, between(300, 30_000)) });
      }
      // two fifths at once, the rest in waves while the faults come
      const first = Math.ceil(messages.length * 0.4);
      await watch.put(box, messages.slice(0, first));
      pending.set(box, messages.slice(first));
      boxes.push(box);
    }
    for (const box of boxes) {
      const extra = {
        port: box.protocol === 'pop3' ? pop3Proxy.port : imapProxy.port,
        tlsMode: 'disabled',
        tlsCa: null,
        deletePolicy: 'immediately',
        intervalMinutes: 1,
      };
      const created =
        box.protocol === 'pop3' ? await sys.pop3Account(owner, box.user, extra) : await sys.imapAccount(owner, box.user, extra);
      box.externalId = created.id;
    }
    const setupSeconds = (Date.now() - began) / 1000;
    log(
      `${boxes.length} accounts (${boxes.filter((b) => b.protocol === 'pop3').length} POP3, the rest IMAP), ${total} messages; setup took ${setupSeconds.toFixed(1)} s`,
    );

    faultsStart = Date.now();
    let running = true;
    const background: Promise<void>[] = [];
    // the Maildir watch, four times a second
    background.push(
      (async () => {
        while (running) {
          await watch.scan(boxes);
          await sleep(250);
        }
      })(),
    );
    // Connect Now on every account every few seconds, so that cycles run all the time
    background.push(
      (async () => {
        while (running) {
          await Promise.all(boxes.map((b) => sys.api('POST', `/api/external-accounts/${b.externalId}/connect-now`).catch(() => undefined)));
          await sleep(3_000);
        }
      })(),
    );
    // the rest of the messages arrive in waves, one every 3 s or so, until shortly before the faults end
    background.push(
      (async () => {
        const waves = Math.max(1, Math.floor((options.faultSeconds * 0.9) / 3));
        for (let w = 0; w < waves && running; w++) {
          await sleep((options.faultSeconds * 1000 * 0.9) / waves);
          for (const [box, rest] of pending) {
            const size = Math.ceil(rest.length / (waves - w));
            await watch.put(box, rest.splice(0, size));
          }
        }
        for (const [box, rest] of pending) await watch.put(box, rest.splice(0));
      })(),
    );

    const faults: FaultRecord[] = [];
    const inject = async (kind: FaultKind): Promise<FaultRecord> => {
      const at = since();
      const started = Date.now();
      let injected = true;
      let detail = '';
      switch (kind) {
        case 'kill-worker':
          await keeper.kill();
          detail = 'SIGKILL, a new worker polling';
          break;
        case 'restart-postgres':
          await restartPostgres();
          detail = 'pg_ctl restart -m fast';
          break;
        case 'restart-temporal':
          await restartTemporal();
          detail = 'dev server stopped by pid, started on the same port and SQLite file';
          break;
        case 'restart-dovecot':
          await restartDovecot();
          detail = 'master stopped by pid, started again';
          break;
        case 'stop-postgres':
        case 'stop-temporal': {
          const ms = between(...options.stopMs);
          const processes = await (kind === 'stop-postgres' ? freezePostgres(ms) : freezeTemporal(ms));
          detail = `SIGSTOP of ${processes} process(es) for ${(ms / 1000).toFixed(1)} s, then SIGCONT`;
          break;
        }
        case 'cut-retr':
        case 'cut-fetch': {
          const proxy: TcpProxy = kind === 'cut-retr' ? pop3Proxy : imapProxy;
          // half the cuts inside the first message (every one is over 500 bytes), half anywhere in the answer
          const afterBytes = Math.random() < 0.5 ? between(1, 500) : between(501, 60_000);
          const plan = { command: kind === 'cut-retr' ? 'RETR' : 'UID FETCH', afterBytes };
          // armed until the faults end: the loop goes on meanwhile (below)
          const withinMs = Math.max(1_000, options.faultSeconds * 1000 - (Date.now() - faultsStart));
          const cut = await proxy.cutNext(plan, withinMs);
          injected = cut !== null;
          detail = cut
            ? `cut after ${plan.afterBytes} bytes of the answer to "${cut.line.slice(0, 80)}"`
            : `no ${plan.command} came within ${Math.round(withinMs / 1000)} s`;
          break;
        }
      }
      return { kind, at, ms: Date.now() - started, injected, detail };
    };
    const record = async (kind: FaultKind): Promise<void> => {
      let fault: FaultRecord;
      try {
        fault = await inject(kind);
      } catch (err) {
        fault = {
          kind,
          at: since(),
          ms: 0,
          injected: false,
          detail: `injection failed: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
      faults.push(fault);
      log(`t+${fault.at.toFixed(1)} s ${fault.kind} (${fault.ms} ms) ${fault.injected ? '' : 'NOT INJECTED: '}${fault.detail}`);
    };
    const armedCuts: Promise<void>[] = [];
    const armed = new Set<FaultKind>();
    // every kind in turn, in a new random order each round, so that a short run still meets them all
    let round: FaultKind[] = [];
    while (since() < options.faultSeconds) {
      await sleep(between(...options.gapMs));
      if (round.length === 0) round = [...options.kinds].sort(() => Math.random() - 0.5);
      const kind = round.pop() as FaultKind;
      // A cut waits for the next transfer of its kind; the other faults do not wait for it.
      if (kind === 'cut-retr' || kind === 'cut-fetch') {
        if (armed.has(kind)) continue;
        armed.add(kind);
        armedCuts.push(record(kind).finally(() => armed.delete(kind)));
      } else await record(kind);
    }
    await Promise.all(armedCuts);
    faults.sort((a, b) => a.at - b.at);
    const faultsEnd = Date.now();
    log(`faults over after ${since().toFixed(1)} s; waiting for every account to finish a clean cycle`);

    // settle: everything stored, the servers empty, every account's last cycle clean and begun after the faults
    const accountsWithoutCleanCycle: ChaosReport['accountsWithoutCleanCycle'] = [];
    let settled = false;
    const settleDeadline = Date.now() + options.settleSeconds * 1000;
    while (Date.now() < settleDeadline) {
      await sleep(2_000);
      accountsWithoutCleanCycle.length = 0;
      for (const box of boxes) {
        const res = await sys.api('GET', `/api/external-accounts/${box.externalId}/status`).catch(() => null);
        const status = res?.status === 200 ? res.body : null;
        const lastRun = status?.lastRun;
        if (!lastRun || lastRun.outcome !== 'ok' || Date.parse(lastRun.startedAt) < faultsEnd) {
          accountsWithoutCleanCycle.push({
            id: box.externalId,
            protocol: box.protocol,
            phase: status ? `${status.phase}${status.progress ? ` ${status.progress.done}/${status.progress.total}` : ''}` : '?',
            lastRun: lastRun
              ? `${lastRun.outcome} started ${lastRun.startedAt}`
              : status
                ? 'none'
                : `status answered ${res?.status ?? 'nothing'}`,
            lastError: status?.lastError ? `${status.lastError.kind}: ${status.lastError.message}` : '',
          });
        }
      }
      const onServer = await watch.onServer(boxes);
      const stored = await storedCounts().catch(() => new Map<string, number>());
      if (accountsWithoutCleanCycle.length === 0 && onServer.size === 0 && stored.size >= total) {
        settled = true;
        break;
      }
    }
    const settleSeconds = (Date.now() - faultsEnd) / 1000;
    running = false;
    await Promise.all(background);
    await watch.scan(boxes);
    await keeper.stop();

    const stored = await storedCounts();
    const onServer = await watch.onServer(boxes);
    const markers = boxes.flatMap((_, a) => Array.from({ length: perAccount }, (__, m) => `chaos-${run}-a${a}-m${m}`)).slice(0, total);
    const report: ChaosReport = {
      logDir: options.logDir,
      options: {
        accounts: options.accounts,
        messages: options.messages,
        faultSeconds: options.faultSeconds,
        gapMs: options.gapMs,
        stopMs: options.stopMs,
        settleSeconds: options.settleSeconds,
        kinds: options.kinds,
      },
      faults,
      workerExits: keeper.exits,
      messages: total,
      stored: markers.filter((m) => (stored.get(m) ?? 0) > 0).length,
      duplicates: markers.filter((m) => (stored.get(m) ?? 0) > 1).map((marker) => ({ marker, copies: stored.get(marker) ?? 0 })),
      lost: markers.filter((m) => !stored.has(m) && !onServer.has(m)),
      vanishedUnstored: watch.vanishedUnstored,
      stillOnServer: onServer.size,
      settled,
      stopNeededKill: keeper.stopNeededKill,
      accountsWithoutCleanCycle,
      setupSeconds,
      settleSeconds,
      commands: { pop3: Object.fromEntries(pop3Proxy.commands), imap: Object.fromEntries(imapProxy.commands) },
      workerErrors: errorLines(keeper.outputs),
    };
    return report;
  } finally {
    await keeper.stop().catch(() => undefined);
    await sys.close().catch((err: unknown) => log(`closing the test system failed: ${err instanceof Error ? err.message : String(err)}`));
    await pop3Proxy.close();
    await imapProxy.close();
  }
}

export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const byKind = new Map<string, { injected: number; skipped: number; ms: number }>();
  for (const f of report.faults) {
    const k = byKind.get(f.kind) ?? { injected: 0, skipped: 0, ms: 0 };
    if (f.injected) k.injected++;
    else k.skipped++;
    k.ms += f.ms;
    byKind.set(f.kind, k);
  }
  lines.push(`chaos: ${report.options.accounts} accounts, ${report.messages} messages, faults for ${report.options.faultSeconds} s`);
  lines.push(
    `setup ${report.setupSeconds.toFixed(1)} s, settle ${report.settleSeconds.toFixed(1)} s (${report.settled ? 'settled' : 'DID NOT SETTLE'})`,
  );
  lines.push('faults injected:');
  for (const f of report.faults)
    lines.push(
      `  t+${f.at.toFixed(1).padStart(6)} s  ${f.kind.padEnd(16)} ${String(f.ms).padStart(6)} ms  ${f.injected ? '' : 'NOT INJECTED: '}${f.detail}`,
    );
  for (const [kind, k] of byKind)
    lines.push(
      `  ${kind.padEnd(16)} ${k.injected} injected${k.skipped ? `, ${k.skipped} not` : ''}, mean ${Math.round(k.ms / (k.injected + k.skipped))} ms`,
    );
  lines.push(
    `stored ${report.stored} of ${report.messages}; duplicated ${report.duplicates.length}; lost ${report.lost.length}; still on the server ${report.stillOnServer}`,
  );
  lines.push(`left the server before being stored: ${report.vanishedUnstored.length}`);
  for (const v of report.vanishedUnstored.slice(0, 10)) lines.push(`  ${v.marker} at t+${v.at} s`);
  for (const d of report.duplicates.slice(0, 10)) lines.push(`  duplicate ${d.marker} × ${d.copies}`);
  for (const l of report.lost.slice(0, 10)) lines.push(`  lost ${l}`);
  const unexpected = report.workerExits.filter((e) => !e.expected);
  lines.push(
    `worker exits: ${report.workerExits.length} (${report.workerExits.length - unexpected.length} killed by us, ${unexpected.length} not)`,
  );
  if (report.stopNeededKill) lines.push('  the last worker did not end within 10 s of SIGTERM: killed');
  for (const e of unexpected)
    lines.push(
      `  t+${e.at} s pid ${e.pid ?? '(start)'} code ${e.code} signal ${e.signal}:\n    ${e.tail.trim().split('\n').slice(-6).join('\n    ')}`,
    );
  if (report.accountsWithoutCleanCycle.length > 0) {
    lines.push(`accounts without a clean cycle after the faults: ${report.accountsWithoutCleanCycle.length}`);
    for (const a of report.accountsWithoutCleanCycle.slice(0, 10))
      lines.push(`  ${a.protocol} ${a.id}: phase ${a.phase}; last run ${a.lastRun}; ${a.lastError}`);
  }
  lines.push(`commands through the proxies: POP3 ${JSON.stringify(report.commands.pop3)} IMAP ${JSON.stringify(report.commands.imap)}`);
  lines.push(`worker log lines about errors (digits as N; every worker's output is in ${report.logDir}):`);
  for (const e of report.workerErrors) lines.push(`  ${String(e.count).padStart(5)} × ${e.line}`);
  return lines.join('\n');
}

/** Whether the run kept every invariant: nothing lost, duplicated or removed early, the worker never exited by itself. */
export const chaosFailures = (report: ChaosReport): string[] =>
  [
    report.settled ? '' : 'the accounts did not all finish a clean cycle with the servers empty',
    report.duplicates.length ? `${report.duplicates.length} messages stored more than once` : '',
    report.lost.length ? `${report.lost.length} messages lost` : '',
    report.vanishedUnstored.length ? `${report.vanishedUnstored.length} messages left the server before they were stored` : '',
    report.workerExits.some((e) => !e.expected)
      ? `${report.workerExits.filter((e) => !e.expected).length} worker exits we did not cause`
      : '',
  ].filter(Boolean);
