import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { TestSystem } from '../testkit/system';
import { startProxy, type TcpProxy } from '../testkit/tcp-proxy';
import { startWorker, type WorkerProcess } from '../testkit/worker-process';

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TRACED = { MAILPULL_PROTOCOL_TRACE: '1', MAILPULL_COMMIT_MESSAGES: '5' };
const retrs = (worker: WorkerProcess): number =>
  worker
    .output()
    .split('\n')
    .filter((l) => l.includes('C: RETR ')).length;

describe('two workers on one task queue', () => {
  let sys: TestSystem;
  let proxy: TcpProxy;
  let second: WorkerProcess;
  before(async () => {
    sys = await TestSystem.start({ workerEnv: TRACED });
    second = await startWorker(sys.db.url, sys.taskQueue, { MAILPULL_SECRET_KEY_FILE: sys.keyFile, ...TRACED });
    proxy = await startProxy(testEnv.pop3Port(), 10);
  });
  after(async () => {
    await second.stop();
    await sys.close();
    await proxy.close();
  });

  test('killing the worker that runs the cycle lets the other finish it; never two mail sessions at once', async () => {
    const user = await addUser('twowork');
    const corpus = Array.from({ length: 40 }, () => buildMessage({ body: textOfSize(100_000) }));
    await saveMessages(user, corpus);
    const owner = await sys.localAccount('owner@two-workers.test');
    const external = await sys.pop3Account(owner, user, { port: proxy.port, deletePolicy: 'immediately' });

    const workers = [sys.worker!, second];
    const running = await waitFor('a worker downloading', () => workers.find((w) => retrs(w) >= 5), 60_000, 20);
    const other = workers.find((w) => w !== running)!;
    const otherBefore = retrs(other);
    await running.kill();
    proxy.delayMs = 0;

    const status = await sys.waitForCycles(external.id, 1, 180_000);
    assert.equal(status.lastRun?.outcome, 'ok', JSON.stringify(status.lastError));
    assert.ok(retrs(other) > otherBefore, 'the surviving worker downloaded the rest');
    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 40, 'every message exactly once');
    assert.deepEqual(stored.map(digest).sort(), corpus.map(digest).sort());
    assert.equal(await countOnServer(user), 0);
    assert.equal(proxy.maxActive, 1, 'at most one mail session of the account at any moment');
  });
});
