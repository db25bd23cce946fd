import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkerProcess } from './worker-process';

const SCRIPTS = path.resolve(__dirname, '../../scripts');

function dirOf(variable: string): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set: run under "npm test" or "npm run chaos", which start the servers`);
  return value;
}

/**
 * Runs one of the infrastructure scripts and waits for it to exit — not for its output to close:
 * the daemons it starts (Dovecot's master) keep the inherited stderr open.
 */
function script(name: string, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(SCRIPTS, name), ...args], { env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      child.stderr.destroy();
      if (code === 0) resolve();
      else reject(new Error(`scripts/${name} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** `pg_ctl restart -m fast` of the test PostgreSQL: every connection is cut, the data stays. */
export const restartPostgres = (): Promise<void> => script('postgres.sh', 'restart', dirOf('MAILPULL_TEST_PG_DIR'));

let temporalBackAt = 0;
const temporalBack = async (): Promise<void> => {
  await script('temporal.sh', 'restart', dirOf('MAILPULL_TEST_TEMPORAL_DIR'));
  temporalBackAt = Date.now();
};

/** Stops the Temporal dev server by its pid and starts it again on the same port and SQLite file. */
export const restartTemporal = temporalBack;

/** Stops the Temporal dev server by its pid; startTemporal brings it back on the same port and SQLite file. */
export const stopTemporal = (): Promise<void> => script('temporal.sh', 'stop', dirOf('MAILPULL_TEST_TEMPORAL_DIR'));
export const startTemporal = temporalBack;

/**
 * Resolves once no call made while Temporal was away can still be waiting to retry. The client
 * retries an unavailable server from a timer (up to 5 s apart, with jitter); a retry that fires
 * after its connection was closed throws "Channel has been shut down" from that timer, an
 * uncaught exception that fails the test file. A closing test system waits for this first.
 */
export async function temporalRetriesSettled(): Promise<void> {
  const left = temporalBackAt + 8_000 - Date.now();
  if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
}

/** Stops the test Dovecot (its master pid) and starts it again: sessions cut, mailboxes kept. */
export const restartDovecot = (): Promise<void> => script('dovecot.sh', 'restart', dirOf('MAILPULL_TEST_DOVECOT_DIR'));

/** SIGKILL of the worker process: a crash, nothing finishes. */
export const killWorker = (worker: WorkerProcess): Promise<void> => worker.kill();

/** A process and all its descendants, parents first, read from /proc. */
async function processTree(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isInteger(ppid)) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue = [...queue, ...(children.get(pid) ?? [])];
  }
  return tree;
}

const firstLineNumber = async (file: string): Promise<number> => {
  const pid = Number((await readFile(file, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${file}`);
  return pid;
};

/**
 * SIGSTOP of a server and all its processes for `ms`, then SIGCONT, whatever happens meanwhile:
 * a server that hangs (swapping, a frozen VM, a partition without resets) instead of going away.
 * Its sockets stay open and the kernel keeps answering TCP (keepalives, new connections queue),
 * so nothing but a timeout of our own notices. Returns how many processes were stopped.
 */
async function freeze(root: number, ms: number): Promise<number> {
  // the parent first: once it is stopped it can start no new child
  const stopped: number[] = [];
  try {
    for (const pid of await processTree(root)) {
      try {
        process.kill(pid, 'SIGSTOP');
        stopped.push(pid);
      } catch {
        // it ended meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, ms));
    return stopped.length;
  } finally {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // it ended meanwhile
      }
    }
  }
}

/** The test PostgreSQL (postmaster and every backend) stopped for `ms`, then continued. */
export const freezePostgres = async (ms: number): Promise<number> =>
  freeze(await firstLineNumber(path.join(dirOf('MAILPULL_TEST_PG_DIR'), 'data', 'postmaster.pid')), ms);

/** The Temporal dev server stopped for `ms`, then continued. */
export async function freezeTemporal(ms: number): Promise<number> {
  const frozen = await freeze(await firstLineNumber(path.join(dirOf('MAILPULL_TEST_TEMPORAL_DIR'), 'temporal.pid')), ms);
  temporalBackAt = Date.now();
  return frozen;
}
