import { spawn } from 'node:child_process';
import path from 'node:path';
import type { WorkerProcess } from './worker-process';

const SCRIPTS = path.resolve(__dirname, '../../../scripts');

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

/** Stops the Temporal dev server by its pid and starts it again on the same port and SQLite file. */
export const restartTemporal = (): Promise<void> => script('temporal.sh', 'restart', dirOf('MAILPULL_TEST_TEMPORAL_DIR'));

/** Stops the Temporal dev server by its pid; startTemporal brings it back on the same port and SQLite file. */
export const stopTemporal = (): Promise<void> => script('temporal.sh', 'stop', dirOf('MAILPULL_TEST_TEMPORAL_DIR'));
export const startTemporal = (): Promise<void> => script('temporal.sh', 'restart', dirOf('MAILPULL_TEST_TEMPORAL_DIR'));

/** Stops the test Dovecot (its master pid) and starts it again: sessions cut, mailboxes kept. */
export const restartDovecot = (): Promise<void> => script('dovecot.sh', 'restart', dirOf('MAILPULL_TEST_DOVECOT_DIR'));

/** SIGKILL of the worker process: a crash, nothing finishes. */
export const killWorker = (worker: WorkerProcess): Promise<void> => worker.kill();
