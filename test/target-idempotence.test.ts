import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deliveredCounts, domainWithTarget } from './support/delivered';
import { addUser, countOnServer, mailboxCount, readByPop3, saveMessages } from '../testkit/dovecot';
import { sleep, testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { startSmtpSink } from './support/smtp-sink';
import { useTestSystem, type TestSystem } from '../testkit/system';
import { startProxy } from '../testkit/tcp-proxy';

/** A real refusal by the database of one message's copy in the built-in store, as bytes it cannot take would be. */
async function refusePoisonInStore(sys: TestSystem): Promise<() => Promise<void>> {
  await sys.db.pool.query(`
    CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.subject = 'poison' THEN RAISE EXCEPTION 'refusing this message (test trigger)'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
  return async () => {
    await sys.db.pool.query('DROP TRIGGER IF EXISTS refuse_poison ON messages');
  };
}

describe('target deliveries are idempotent per message and recipient (Dovecot LMTP, SMTP sink, Postgres)', () => {
  // held messages are offered again after 1 s, 2 s, 4 s … instead of 30 s, 60 s …
  const sys = useTestSystem({ workerEnv: { MAILPULL_DELIVERY_RETRY_SECONDS: '1' } });
  const account = (address: string) => sys.ok<{ id: string }>('POST', '/api/accounts', { address });
  const connectNow = (id: string) => sys.ok('POST', `/api/external-accounts/${id}/connect-now`, undefined, 202);
  const mime = { enabled: true, allDomains: true };

  test("a message whose store copy is refused: its target recipient's acceptance survives the rolled-back savepoint, no second copy", async () => {
    const allow = await refusePoisonInStore(sys);
    try {
      const source = await addUser('idsrc');
      const alice = await addUser('idalice');
      const poison = buildMessage({ to: `${alice.name}@lmtp-idem.test, bob@store-idem.test`, subject: 'poison' });
      const plain = buildMessage({ to: `${alice.name}@lmtp-idem.test`, subject: 'plain' });
      await saveMessages(source, [poison, plain]);
      await domainWithTarget(sys, 'lmtp-idem.test', { kind: 'lmtp', host: '127.0.0.1', port: testEnv.lmtpPort(), tlsMode: 'disabled' });
      const owner = await account(`${alice.name}@lmtp-idem.test`);
      await sys.localAccount('bob@store-idem.test');
      const external = await sys.pop3Account(owner, source, { deletePolicy: 'never', mimeRecipients: mime });

      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.delivered, 1);
      assert.equal(first.lastRun?.failed, 2, 'the refused one tried twice more in the same cycle');
      assert.equal(first.lastRun?.quarantined, 1, 'then quarantined');
      const delivered = await readByPop3(alice);
      assert.deepEqual(deliveredCounts(delivered, [poison, plain]), [1, 1], 'alice got each message once, the refused one too');
      assert.equal(delivered.length, 2);
    } finally {
      await allow();
    }
  });

  test('held messages retried together: one whose writes fail does not make the target get the others again', async () => {
    const proxy = await startProxy(testEnv.lmtpPort());
    const allow = await refusePoisonInStore(sys);
    try {
      await proxy.stop(0);
      const source = await addUser('hgsrc');
      const alice = await addUser('hgalice');
      const messages = [
        buildMessage({ to: `${alice.name}@held-a.test`, subject: 'first' }),
        buildMessage({ to: `${alice.name}@held-a.test, bob@held-b.test`, subject: 'poison' }),
        buildMessage({ to: `${alice.name}@held-a.test`, subject: 'third' }),
      ];
      await saveMessages(source, messages);
      const target = { kind: 'lmtp', host: '127.0.0.1', port: proxy.port, tlsMode: 'disabled' };
      const { targetId } = await domainWithTarget(sys, 'held-a.test', target);
      const { id: domainB } = await sys.ok<{ id: string }>('POST', '/api/domains', { name: 'held-b.test', deliveryTargetId: targetId });
      const owner = await account(`${alice.name}@held-a.test`);
      const bob = await account('bob@held-b.test');
      const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately', mimeRecipients: mime });
      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.held, 3, 'the target is down: all three held');

      // bob's mail now goes to the built-in store, which refuses the poison message
      await sys.ok('PATCH', `/api/domains/${domainB}`, { deliveryTargetId: null });
      await proxy.resume();
      await connectNow(external.id);
      await waitFor('all three at alice', async () => (await mailboxCount(alice)) >= 3, 60_000, 500);
      await sleep(8000); // several more attempts at the poison message
      assert.deepEqual(deliveredCounts(await readByPop3(alice), messages), [1, 1, 1], 'alice got each message once');
      const held = await sys.status(external.id);
      assert.equal(held.delivery.backlog, 1, 'the poison message waits for bob');
      assert.match(held.delivery.lastError?.message ?? '', /could not be processed: .*refusing this message/);

      await allow();
      await waitFor('the poison message stored for bob', async () => (await sys.storedMessages(bob.id)).length === 1, 60_000, 500);
      await waitFor('an empty backlog', async () => (await sys.status(external.id)).delivery.backlog === 0, 60_000, 500);
      await connectNow(external.id);
      await waitFor('the remote emptied', async () => (await countOnServer(source)) === 0, 60_000, 500);
      assert.deepEqual(await sys.storedMessages(bob.id), [messages[1]]);
      const delivered = await readByPop3(alice);
      assert.equal(delivered.length, 3);
      assert.deepEqual(deliveredCounts(delivered, messages), [1, 1, 1], 'still once each');
    } finally {
      await allow();
      await proxy.close();
    }
  });

  test('one held message its target keeps answering "later" for does not stop the collection of new mail', async () => {
    const sink = await startSmtpSink({
      rcpt: (address) => (address === 'bob@stuck.test' ? { code: 451, message: '4.2.0 <bob@stuck.test>: try again later' } : null),
    });
    try {
      const source = await addUser('stsrc');
      const stuck = buildMessage({ to: 'bob@stuck.test', subject: 'for bob' });
      await saveMessages(source, [stuck]);
      await domainWithTarget(sys, 'stuck.test', { kind: 'smtp', host: '127.0.0.1', port: sink.port, tlsMode: 'disabled' });
      const alice = await account('alice@stuck.test');
      await account('bob@stuck.test');
      const external = await sys.pop3Account(alice, source, { deletePolicy: 'immediately', mimeRecipients: mime });
      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.held, 1);

      const fresh = [1, 2, 3].map((i) => buildMessage({ to: 'alice@stuck.test', subject: `new ${i}` }));
      await saveMessages(source, fresh);
      await connectNow(external.id);
      const second = await sys.waitForCycles(external.id, 2);
      assert.equal(second.lastRun?.delivered, 3, 'the new mail is collected');
      assert.equal(second.delivery.backlog, 1, "bob's message is still held");
      assert.deepEqual(
        deliveredCounts(
          sink.received.map((m) => m.raw),
          [stuck, ...fresh],
        ),
        [0, 1, 1, 1],
      );
      assert.equal(await countOnServer(source), 1, "only bob's message, still held, stays on the remote");
    } finally {
      await sink.close();
    }
  });
});
