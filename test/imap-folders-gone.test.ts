import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, mailboxCount } from '../testkit/dovecot';
import { appendMessages, readFolder, withImap } from './support/imap';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

/**
 * A folder's messages stay pending while over the account's size limit: raising the limit after
 * the folder is deleted (or excluded) is what an admin would do, and makes them due.
 */
describe('IMAP folders deleted on the server or excluded by the admin, messages a listing missed (Dovecot)', () => {
  const sys = useTestSystem();
  const big = () => buildMessage({ subject: 'large', body: textOfSize(20_000) });

  test('a deleted folder with pending messages: a warning in words, the other folders collected and deleted', async () => {
    const user = await addUser('gone');
    const inbox1 = buildMessage({ subject: 'inbox one' });
    await appendMessages(user, 'INBOX', [{ raw: inbox1 }]);
    await appendMessages(user, 'Projects', [{ raw: big() }]);
    const owner = await sys.localAccount('gone@folders.test');
    const external = await sys.imapAccount(owner, user, { folders: { mode: 'all', exclude: [] }, maxMessageBytes: 10_000 });
    const cycle1 = await sys.waitForCycles(external.id, 1);
    assert.equal(cycle1.lastRun?.delivered, 1);
    assert.equal(cycle1.lastRun?.tooLarge, 1);
    assert.equal(cycle1.folderWarning, null);

    await withImap(user, (client) => client.mailboxDelete('Projects'));
    const inbox2 = buildMessage({ subject: 'inbox two' });
    await appendMessages(user, 'INBOX', [{ raw: inbox2 }]);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { maxMessageBytes: 1_000_000, deletePolicy: 'immediately' });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null, 'the account does not fail');
    assert.match(cycle2.folderWarning ?? '', /remote folder "Projects" is not on the server/);
    assert.equal(cycle2.lastRun?.delivered, 1);
    assert.equal(cycle2.lastRun?.removed, 2, 'the delete pass ran');
    assert.equal(await mailboxCount(user), 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [inbox1, inbox2]);

    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const cycle3 = await sys.waitForCycles(external.id, 3);
    assert.equal(cycle3.lastError, null);
    assert.match(cycle3.folderWarning ?? '', /"Projects"/, 'still said while its message was never collected');
  });

  test('a message taken for gone once (a FETCH that missed it) is looked for again and collected', async () => {
    const user = await addUser('missed');
    const large = big();
    await appendMessages(user, 'INBOX', [{ raw: large }]);
    const owner = await sys.localAccount('missed@folders.test');
    const external = await sys.imapAccount(owner, user, { maxMessageBytes: 10_000 });
    assert.equal((await sys.waitForCycles(external.id, 1)).lastRun?.tooLarge, 1);
    // what a listing whose UID FETCH left the message out does to it
    const { rowCount } = await sys.db.pool.query(
      `UPDATE uid_index SET deleted_at = now() WHERE external_account_id = $1 AND collected_at IS NULL`,
      [external.id],
    );
    assert.equal(rowCount, 1);

    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { maxMessageBytes: 1_000_000 });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.delivered, 1, 'still on the server: collected');
    assert.deepEqual(await sys.storedMessages(owner.id), [large]);
  });

  test('a folder the admin excluded: its pending messages are not fetched, and stay on the server', async () => {
    const user = await addUser('excl');
    await appendMessages(user, 'INBOX', [{ raw: buildMessage({ subject: 'inbox' }) }]);
    await appendMessages(user, 'Lists', [{ raw: big() }]);
    const owner = await sys.localAccount('excl@folders.test');
    const external = await sys.imapAccount(owner, user, { folders: { mode: 'all', exclude: [] }, maxMessageBytes: 10_000 });
    assert.equal((await sys.waitForCycles(external.id, 1)).lastRun?.tooLarge, 1);

    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, {
      folders: { mode: 'all', exclude: ['Lists'] },
      maxMessageBytes: 1_000_000,
    });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.folderWarning, null, 'excluded, not missing');
    assert.equal(cycle2.lastRun?.delivered, 0, 'nothing fetched from the excluded folder');
    assert.equal((await sys.storedMessages(owner.id)).length, 1);
    assert.equal((await readFolder(user, 'Lists')).length, 1);
  });
});
