import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { generateKey } from '../secrets/secret-box';
import { createTestDatabase, type TestDatabase } from '../testkit/database';
import { testEnv, waitFor } from '../testkit/env';
import { unusedPort } from '../testkit/ports';

const DIST = path.resolve(__dirname, '..');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** pids the supervisor logged as started for a child, in order */
const startedPids = (output: string, name: string): number[] =>
  [...output.matchAll(new RegExp(`started ${name} \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));

describe('npm start supervisor (worker, API and a child that ignores SIGTERM)', () => {
  let db: TestDatabase;
  let dir: string;
  let supervisor: ChildProcess;
  let output = '';
  let connection: Connection;
  const taskQueue = `supervised-${Date.now()}`;

  before(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(path.join(tmpdir(), 'mailpull-supervisor-'));
    await writeFile(path.join(dir, 'keys'), `${generateKey()}\n`, { mode: 0o600 });
    // the one stub: a child that ignores SIGTERM, so only SIGKILL ends it
    await writeFile(
      path.join(dir, 'stubborn.js'),
      "process.on('SIGTERM', () => console.log('stubborn ignores SIGTERM'));\nsetInterval(() => undefined, 1000);\n",
    );
    connection = await Connection.connect({ address: testEnv.temporalAddress() });
    supervisor = spawn(
      process.execPath,
      [
        path.join(DIST, 'worker/supervise.js'),
        `worker=${path.join(DIST, 'worker/main.js')}`,
        `api=${path.join(DIST, 'api/main.js')}`,
        `stubborn=${path.join(dir, 'stubborn.js')}`,
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          TEMPORAL_ADDRESS: testEnv.temporalAddress(),
          MAILPULL_TASK_QUEUE: taskQueue,
          MAILPULL_SECRET_KEY_FILE: path.join(dir, 'keys'),
          API_HOST: '127.0.0.1',
          API_PORT: String(await unusedPort()),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    supervisor.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    supervisor.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(
      'the worker to poll and the API to listen',
      () => output.includes('polling task queue') && output.includes('API listening'),
      60_000,
    );
  });

  after(async () => {
    if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill('SIGKILL');
    for (const name of ['worker', 'api', 'stubborn'])
      for (const pid of startedPids(output, name)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    await connection.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const pollerPids = async (): Promise<number[]> => {
    const res = await connection.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (res.pollers ?? []).map((p) => Number((p.identity ?? '').split('@')[0]));
  };

  test('a worker killed with SIGKILL is started again and polls the task queue again; the API is left alone', async () => {
    const [first] = startedPids(output, 'worker');
    const [api] = startedPids(output, 'api');
    await waitFor('the first worker among the pollers', async () => (await pollerPids()).includes(first), 30_000, 200);
    process.kill(first, 'SIGKILL');
    const second = await waitFor('a new worker process', () => startedPids(output, 'worker')[1], 30_000);
    assert.notEqual(second, first);
    assert.match(output, new RegExp(`worker \\(pid ${first}\\) killed by SIGKILL after [\\d.]+ s; restarting in 1\\.0 s`));
    await waitFor('the new worker among the pollers', async () => (await pollerPids()).includes(second), 60_000, 200);
    assert.equal(output.split('polling task queue').length - 1, 2, 'the new worker logged that it polls');
    assert.deepEqual(startedPids(output, 'api'), [api], 'the API was not restarted');
    assert.ok(alive(api));
  });

  test('SIGINT: every child is gone within 10 s, the one ignoring SIGTERM too, and nothing is restarted', async () => {
    const children = ['worker', 'api', 'stubborn'].map((name) => startedPids(output, name).at(-1) ?? 0);
    assert.ok(children.every(alive), 'all three children run before the stop');
    const exited = new Promise<number | null>((resolve) => supervisor.once('exit', (code) => resolve(code)));
    const started = Date.now();
    supervisor.kill('SIGINT');
    await waitFor('every child to be gone', () => !children.some(alive), 10_000, 50);
    const elapsed = Date.now() - started;
    assert.equal(await exited, 0);
    assert.ok(elapsed <= 10_000, `stopped in ${elapsed} ms`);
    assert.match(output, new RegExp(`pid ${children[2]} still running after \\d+ ms: SIGKILL`));
    assert.match(output, /worker \(pid \d+\) stopped: exited with code 0/);
    assert.equal(startedPids(output, 'worker').length, 2, 'no restart during the stop');
    console.log(`supervisor stopped worker, API and the stubborn child in ${elapsed} ms`);
  });
});
