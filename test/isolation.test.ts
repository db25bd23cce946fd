import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { TestSystem } from '../testkit/system';

describe('one message the store refuses (Dovecot, Postgres)', () => {
  let sys: TestSystem;
  before(async () => {
    sys = await TestSystem.start();
    // A real refusal by the database for one message only, as bytes it cannot take would be.
    await sys.db.pool.query(`
      CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.subject = 'poison' THEN RAISE EXCEPTION 'refusing this message (test trigger)'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);
  });
  after(async () => {
    await sys.close();
  });

  test('fails alone: the others are delivered in the same cycle, it is tried 3 times, then quarantined whole; a retry delivers it', async () => {
    const user = await addUser('poison');
    const messages = ['first', 'second', 'poison', 'fourth', 'fifth'].map((subject) => buildMessage({ subject }));
    await saveMessages(user, messages);
    const owner = await sys.localAccount('owner@isolation.test');
    const external = await sys.pop3Account(owner, user, { deletePolicy: 'immediately' });

    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastError, null, JSON.stringify(first.lastError));
    assert.equal(first.lastRun?.delivered, 4);
    assert.equal(first.lastRun?.failed, 2, 'tried twice more in the same cycle, behind the others');
    assert.equal(first.lastRun?.quarantined, 1, 'then quarantined');
    assert.deepEqual(
      (await sys.storedMessages(owner.id)).map((raw) => messages.findIndex((m) => m.equals(raw))),
      [0, 1, 3, 4],
    );
    assert.equal(await countOnServer(user), 0, 'the quarantine keeps it, so the delete policy proceeds');

    const list = await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`);
    assert.equal(list.total, 1);
    assert.match(list.messages[0].reason, /could not be processed: P0001: refusing this message \(test trigger\)/);
    assert.ok((await sys.api('GET', `/api/quarantine/${list.messages[0].id}/raw`)).raw.equals(messages[2]), 'kept byte for byte');

    await sys.db.pool.query('DROP TRIGGER refuse_poison ON messages');
    assert.equal((await sys.api('POST', `/api/quarantine/${list.messages[0].id}/retry`)).status, 202);
    await waitFor(
      'the retried message in the store',
      async () => (await sys.storedMessages(owner.id)).some((raw) => raw.equals(messages[2])),
      60_000,
      500,
    );
    assert.equal((await sys.storedMessages(owner.id)).length, 5, 'every message exactly once');
  });
});
