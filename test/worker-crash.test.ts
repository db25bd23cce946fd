import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';
import { startProxy, type TcpProxy } from '../testkit/tcp-proxy';

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('a worker killed in the middle of a download batch', () => {
  // small commit groups, so the kill lands between commits of one download batch
  const sys = useTestSystem({ workerEnv: { MAILPULL_COMMIT_MESSAGES: '5' } });
  let proxy: TcpProxy;
  before(async () => {
    proxy = await startProxy(testEnv.pop3Port(), 10);
  });
  after(async () => {
    await proxy.close();
  });

  test('SIGKILL mid-batch, restart: every message stored exactly once, nothing deleted before delivery', async () => {
    const user = await addUser();
    const corpus = Array.from({ length: 50 }, () => buildMessage({ body: textOfSize(100_000) }));
    await saveMessages(user, corpus);
    const owner = await sys.localAccount('owner@crash.test');
    const external = await sys.pop3Account(owner, user, { port: proxy.port, deletePolicy: 'immediately' });

    const count = async (): Promise<number> =>
      Number((await sys.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM messages')).rows[0].n);
    await waitFor('some messages to be delivered', async () => (await count()) >= 5, 60_000, 20);
    await sys.worker?.kill();
    const atKill = await count();
    assert.ok(atKill < 50, `killed mid-batch (${atKill} of 50 delivered)`);
    assert.equal(await countOnServer(user), 50, 'nothing deleted from the server before the crash');

    proxy.delayMs = 0;
    await sys.startWorker({ MAILPULL_COMMIT_MESSAGES: '5' });
    const status = await sys.waitForCycles(external.id, 1, 180_000);
    assert.equal(status.lastRun?.outcome, 'ok');

    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 50, 'every message exactly once');
    assert.deepEqual(stored.map(digest).sort(), corpus.map(digest).sort());
    assert.equal(await countOnServer(user), 0, 'all removed once delivered');
  });
});
