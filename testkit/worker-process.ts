import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testEnv } from './env';
import { testNetworkEnv } from './network-policy';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** SIGTERM and wait (graceful shutdown) */
  stop(): Promise<void>;
  /** SIGKILL and wait: a crash */
  kill(): Promise<void>;
}

const WORKER_MAIN = path.resolve(__dirname, '../worker/main.js');

/** Starts the real worker (dist/worker/main.js) as its own process, as production does; it may connect to loopback unless `env` says otherwise. */
export async function startWorker(databaseUrl: string, taskQueue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: testEnv.temporalAddress(),
      MAILPULL_TASK_QUEUE: taskQueue,
      ...testNetworkEnv(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    const check = (): void => {
      if (output.includes('polling task queue')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${output}`));
    });
  });
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { child, output: () => output, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
