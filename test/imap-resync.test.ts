import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { appendMessages, withImap } from './support/imap';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('UIDVALIDITY changes and index resets', () => {
  const sys = useTestSystem();

  test('a recreated mailbox with the same messages plus 3 new ones: only the 3 are delivered, the status shows the resync', async () => {
    const user = await addUser('resync');
    const old = Array.from({ length: 10 }, (_, i) => ({ raw: buildMessage({ subject: `kept ${i}` }) }));
    // Two identical copies: both were delivered once, so both are recognised, not one.
    old.push({ raw: old[0].raw });
    await appendMessages(user, 'Project', old);
    const owner = await sys.localAccount('resync@imap.test');
    const ext = await sys.imapAccount(owner, user, { folders: { mode: 'list', names: ['Project'] } });
    assert.equal((await sys.waitForCycles(ext.id, 1)).lastRun?.delivered, 11);
    const uidValidity = (): Promise<string> =>
      withImap(user, async (client) => String((await client.mailboxOpen('Project', { readOnly: true })).uidValidity));
    const before = await uidValidity();

    const fresh = Array.from({ length: 3 }, (_, i) => ({ raw: buildMessage({ subject: `new ${i}` }) }));
    await withImap(user, async (client) => {
      await client.mailboxDelete('Project');
      await client.mailboxCreate('Project');
    });
    await appendMessages(user, 'Project', [...old.slice(0, 5), fresh[0], ...old.slice(5), fresh[1], fresh[2]]);
    assert.notEqual(await uidValidity(), before, 'the recreated mailbox has a new UIDVALIDITY');

    await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
    const status = await sys.waitForCycles(ext.id, 2);
    assert.equal(status.lastError, null);
    assert.deepEqual(status.lastRun?.resyncedFolders, ['Project']);
    assert.deepEqual(status.lastResync?.folders, ['Project']);
    assert.equal(status.lastRun?.delivered, 3, 'only the truly new messages are delivered');
    assert.equal(status.lastRun?.recognized, 11);
    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 14);
    for (const m of fresh) assert.equal(stored.filter((s) => s.equals(m.raw)).length, 1);
    for (const m of old.slice(1, 10)) assert.equal(stored.filter((s) => s.equals(m.raw)).length, 1);
    assert.equal(stored.filter((s) => s.equals(old[0].raw)).length, 2);

    await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
    const quiet = await sys.waitForCycles(ext.id, 3);
    assert.equal(quiet.lastRun?.delivered, 0);
    assert.deepEqual(quiet.lastRun?.resyncedFolders, []);
  });

  test('reset-index: the next cycle sees every message as new but stores none again; with force it stores them again', async () => {
    const user = await addUser('reset');
    const corpus = Array.from({ length: 5 }, (_, i) => buildMessage({ subject: `reset ${i}` }));
    await saveMessages(user, corpus);
    const owner = await sys.localAccount('reset@pop3.test');
    const ext = await sys.pop3Account(owner, user);
    assert.equal((await sys.waitForCycles(ext.id, 1)).lastRun?.delivered, 5);

    const reset = await sys.ok('POST', `/api/external-accounts/${ext.id}/reset-index`, {}, 200);
    assert.deepEqual(reset, { forgotten: 5, force: false });
    await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
    const again = await sys.waitForCycles(ext.id, 2);
    assert.equal(again.lastRun?.newOnServer, 5, 'the server messages count as new');
    assert.equal(again.lastRun?.delivered, 0);
    assert.equal(again.lastRun?.recognized, 5);
    assert.equal((await sys.storedMessages(owner.id)).length, 5, 'nothing delivered twice');

    await sys.ok('POST', `/api/external-accounts/${ext.id}/reset-index`, { force: true }, 200);
    await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
    const forced = await sys.waitForCycles(ext.id, 3);
    assert.equal(forced.lastRun?.delivered, 5);
    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 10);
    corpus.forEach((m) => assert.equal(stored.filter((s) => s.equals(m)).length, 2));
    assert.equal(await countOnServer(user), 5);

    const bad = await sys.api('POST', `/api/external-accounts/${ext.id}/reset-index`, { force: 'yes' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.field, 'force');
  });

  test('forward-to: mail whose MIME recipients are nobody local goes to the forward-to account, not the owner', async () => {
    const user = await addUser('fwd');
    const toAlice = buildMessage({ to: 'alice@fwd.test' });
    const toStranger = buildMessage({ to: 'stranger@elsewhere.example' });
    await saveMessages(user, [toAlice, toStranger]);
    const owner = await sys.localAccount('owner@fwd.test');
    const alice = await sys.localAccount('alice@fwd.test');
    const fallback = await sys.localAccount('catchall@fwd.test');
    const ext = await sys.pop3Account(owner, user, {
      mimeRecipients: { enabled: true },
      forwardToAccountId: fallback.id,
    });
    assert.equal((await sys.waitForCycles(ext.id, 1)).lastRun?.delivered, 2);
    assert.deepEqual(await sys.storedMessages(alice.id), [toAlice]);
    assert.deepEqual(await sys.storedMessages(fallback.id), [toStranger]);
    assert.deepEqual(await sys.storedMessages(owner.id), []);

    const unknown = await sys.api('PATCH', `/api/external-accounts/${ext.id}`, {
      forwardToAccountId: '00000000-0000-4000-8000-000000000000',
    });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.field, 'forwardToAccountId');
  });
});
