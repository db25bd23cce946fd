import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deliveredCounts, domainWithTarget } from './support/delivered';
import { addUser, countOnServer, mailboxCount, pop3Login, readByPop3, type DovecotUser } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { writeMaildir } from '../testkit/maildir';
import { useTestSystem } from '../testkit/system';
import { startProxy } from '../testkit/tcp-proxy';

async function uidls(user: DovecotUser): Promise<string[]> {
  const client = await pop3Login(user);
  try {
    return [...(await client.uidl()).values()];
  } finally {
    await client.quit();
  }
}

describe('a held message of an earlier delivery generation (Dovecot LMTP, Postgres)', () => {
  // held messages are offered again after 1 s, 2 s, 4 s … instead of 30 s, 60 s …
  const sys = useTestSystem({ workerEnv: { MAILPULL_DELIVERY_RETRY_SECONDS: '1' } });

  test("re-pointed to another mailbox: the old mailbox's held message, delivered later, deletes none of the new mailbox's messages", async () => {
    const proxy = await startProxy(testEnv.lmtpPort());
    try {
      await proxy.stop(0);
      const a = await addUser('gena');
      const b = await addUser('genb');
      const destination = await addUser('gendst');
      const small = (i: number): Buffer =>
        Buffer.from(`From: x@remote.test\r\nSubject: old mailbox ${i}\r\nMessage-ID: <A${i}@generation.test>\r\n\r\nbody A${i}\r\n`);
      // Over the account's size limit: never downloaded, so never delivered.
      const large = (i: number): Buffer =>
        Buffer.from(
          `From: x@remote.test\r\nSubject: new mailbox ${i}\r\nMessage-ID: <B${i}@generation.test>\r\n\r\n${'b'.repeat(4000)}\r\n`,
        );
      await writeMaildir(a, 3, small, { uidvalidity: 1700000456 });
      await writeMaildir(b, 3, large, { uidvalidity: 1700000456 });
      assert.deepEqual(await uidls(b), await uidls(a), 'precondition: the two mailboxes share their UIDLs');
      const serverA = await readByPop3(a);

      await domainWithTarget(sys, 'generation.test', { kind: 'lmtp', host: '127.0.0.1', port: proxy.port, tlsMode: 'disabled' });
      const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `${destination.name}@generation.test` });
      const external = await sys.pop3Account(owner, a, { deletePolicy: 'immediately', maxMessageBytes: 2048 });
      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.held, 3, "mailbox A's messages wait for the target");

      await waitFor(
        'the change to mailbox B to be accepted (no cycle running)',
        async () => {
          const res = await sys.api('PATCH', `/api/external-accounts/${external.id}`, { username: b.name, password: b.password });
          if (res.status === 409) return false;
          assert.equal(res.status, 200, res.raw.toString());
          return true;
        },
        60_000,
        500,
      );
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      const listedB = await waitFor('a cycle that listed mailbox B', async () => {
        const s = await sys.status(external.id);
        return s.counts.cycles >= 2 && s.lastRun?.tooLarge === 3 && s;
      });
      assert.equal(listedB.delivery.backlog, 3, "mailbox A's messages are still held");

      await proxy.resume();
      await waitFor('the held messages delivered', async () => (await sys.status(external.id)).delivery.backlog === 0, 60_000, 500);
      const delivered = await sys.status(external.id);
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      const after = await sys.waitForCycles(external.id, delivered.counts.cycles + 1);
      assert.equal(after.lastError, null);
      assert.equal(after.lastRun?.tooLarge, 3);

      assert.equal(await countOnServer(b), 3, "mailbox B's messages, never downloaded, stay on its server");
      assert.equal(await mailboxCount(destination), 3);
      deliveredCounts(await readByPop3(destination), serverA).forEach((n, i) =>
        assert.equal(n, 1, `message ${i} of mailbox A: ${n} copies`),
      );
    } finally {
      await proxy.close();
    }
  });
});
