import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, pop3Login, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

async function serverUids(user: DovecotUser): Promise<string[]> {
  const client = await pop3Login(user);
  const uids = [...(await client.uidl()).values()];
  await client.quit();
  return uids;
}

describe('delete policies against Dovecot', () => {
  // messages over 100 kB are left on the server, so "delivered" and "on the server" differ
  const sys = useTestSystem({ workerEnv: { MAILPULL_MAX_MESSAGE_BYTES: '100000' } });

  test('"immediately" removes exactly the delivered messages', async () => {
    const user = await addUser();
    const tooLarge = buildMessage({ subject: 'too large', body: textOfSize(200_000) });
    await saveMessages(user, [...Array.from({ length: 9 }, () => buildMessage()), tooLarge]);
    const owner = await sys.localAccount('now@policy.test');
    const external = await sys.pop3Account(owner, user, { deletePolicy: 'immediately' });

    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastRun?.delivered, 9);
    assert.equal(status.lastRun?.removed, 9);
    assert.equal(status.lastRun?.tooLarge, 1);
    assert.equal((await sys.storedMessages(owner.id)).length, 9);
    assert.equal(await countOnServer(user), 1, 'only the undelivered (too large) message is left');
  });

  test('"afterDays: N" removes only delivered messages first seen more than N days ago', async () => {
    const user = await addUser();
    await saveMessages(
      user,
      Array.from({ length: 6 }, () => buildMessage()),
    );
    const owner = await sys.localAccount('later@policy.test');
    const external = await sys.pop3Account(owner, user, { deletePolicy: { afterDays: 3 } });

    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.delivered, 6);
    assert.equal(first.lastRun?.removed, 0);
    assert.equal(await countOnServer(user), 6);

    const uids = await serverUids(user);
    const aged = [uids[1], uids[4]];
    await sys.db.pool.query(
      `UPDATE uid_index SET first_seen_at = now() - interval '4 days' WHERE external_account_id = $1 AND uid = ANY($2)`,
      [external.id, aged],
    );
    await sys.db.pool.query(`UPDATE uid_index SET first_seen_at = now() - interval '2 days' WHERE external_account_id = $1 AND uid = $2`, [
      external.id,
      uids[2],
    ]);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(external.id, 2);
    assert.equal(second.lastRun?.removed, 2);
    assert.deepEqual(
      await serverUids(user),
      uids.filter((u) => !aged.includes(u)),
    );
    assert.equal((await sys.storedMessages(owner.id)).length, 6);
  });
});
