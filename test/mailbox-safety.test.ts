import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, pop3Login, readByPop3, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { writeMaildir } from '../testkit/maildir';
import { useTestSystem } from '../testkit/system';

/** Same length for both mailboxes, different content: only the UIDL and size could mistake one for the other. */
const lettered =
  (mailbox: 'A' | 'B') =>
  (i: number): Buffer =>
    Buffer.from(
      `From: x@remote.test\r\nSubject: mailbox ${mailbox} message ${i}\r\nMessage-ID: <${mailbox}${i}@safety.test>\r\n\r\nbody of ${mailbox}${i}\r\n`,
    );

async function uidls(user: DovecotUser): Promise<string[]> {
  const client = await pop3Login(user);
  try {
    return [...(await client.uidl()).values()];
  } finally {
    await client.quit();
  }
}

describe('delete safety and size limits (Dovecot)', () => {
  const sys = useTestSystem();

  test('an account re-pointed to a mailbox whose UIDLs collide with delivered ones deletes nothing it did not deliver', async () => {
    const a = await addUser('reusea');
    const b = await addUser('reuseb');
    // The same UIDVALIDITY and message count: mailbox B's UIDLs and sizes are exactly A's.
    await writeMaildir(a, 5, lettered('A'), { uidvalidity: 1700000123 });
    await writeMaildir(b, 5, lettered('B'), { uidvalidity: 1700000123 });
    assert.deepEqual(await uidls(b), await uidls(a), 'precondition: the two mailboxes share their UIDLs');
    const serverB = await readByPop3(b);

    const owner = await sys.localAccount('owner@safety.test');
    const external = await sys.pop3Account(owner, a, { deletePolicy: 'never' });
    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.delivered, 5);

    // Re-point to B and let it delete what it delivered.
    await waitFor(
      'the change to be accepted (no cycle running)',
      async () => {
        const res = await sys.api('PATCH', `/api/external-accounts/${external.id}`, {
          username: b.name,
          password: b.password,
          deletePolicy: 'immediately',
        });
        if (res.status === 409) return false;
        assert.equal(res.status, 200, res.raw.toString());
        return true;
      },
      60_000,
      500,
    );
    await waitFor('mailbox B emptied', async () => (await countOnServer(b)) === 0, 120_000, 500);
    const settled = await waitFor('the cycle that emptied mailbox B to finish', async () => {
      const status = await sys.status(external.id);
      return status.counts.cycles >= 2 && status.phase === 'waiting' && status;
    });
    assert.equal(settled.lastError, null);

    const stored = await sys.storedMessages(owner.id);
    for (const [i, raw] of serverB.entries()) {
      assert.equal(stored.filter((s) => s.equals(raw)).length, 1, `message ${i} of mailbox B was delivered once before it was deleted`);
    }
    assert.equal(stored.length, 10, 'mailbox A once and mailbox B once');
    assert.equal(await countOnServer(a), 5, 'mailbox A, collected under "never", is untouched');
  });

  test("the account's own size limit leaves larger messages on the server and reports them", async () => {
    const user = await addUser('limit');
    const smallOne = Buffer.from('From: x@remote.test\r\nSubject: small\r\n\r\nsmall body\r\n');
    const bigOne = Buffer.from(`From: x@remote.test\r\nSubject: big\r\n\r\n${'y'.repeat(5000)}\r\n`);
    await saveMessages(user, [smallOne, bigOne]);
    const owner = await sys.localAccount('limited@safety.test');
    const external = await sys.imapAccount(owner, user, { deletePolicy: 'immediately', maxMessageBytes: 2048 });
    assert.equal(external.maxMessageBytes, 2048);
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastRun?.delivered, 1);
    assert.equal(status.lastRun?.tooLarge, 1);
    assert.deepEqual(await sys.storedMessages(owner.id), [smallOne]);
    assert.equal(await countOnServer(user), 1, 'the large message stays on the server');

    const invalid = await sys.api('PATCH', `/api/external-accounts/${external.id}`, { maxMessageBytes: -5 });
    assert.equal(invalid.status, 400);
    assert.match(JSON.stringify(invalid.body), /maxMessageBytes/);

    // Raising the limit collects it on the next cycle.
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { maxMessageBytes: null });
    await waitFor('the large message collected', async () => (await sys.storedMessages(owner.id)).length === 2, 60_000, 500);
  });
});
