import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser } from '../testkit/dovecot';
import { appendMessages, readFolder } from './support/imap';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

const day = (n: number): Date => new Date(Date.UTC(2025, 0, n, 8, 30, 0));
const FLAG_CYCLE = [[], ['\\Seen'], ['\\Flagged'], ['\\Seen', '\\Answered'], ['$Important']];

/**
 * 20 messages per folder, each with its own INTERNALDATE and a mix of flags and keywords; #7 is
 * larger (in INBOX 9 MB, which is fetched in 4 MB pieces).
 */
function folderCorpus(folder: string, firstDay: number) {
  const large = folder === 'INBOX' ? 9 * 1024 * 1024 : 300_000;
  return Array.from({ length: 20 }, (_, i) => ({
    raw: buildMessage({ subject: `${folder} #${i}`, body: i === 7 ? textOfSize(large) : `in ${folder}, number ${i}\r\n` }),
    flags: FLAG_CYCLE[i % FLAG_CYCLE.length],
    date: day(firstDay + i),
  }));
}

describe('IMAP collection end to end (Dovecot, Temporal, Postgres)', () => {
  const sys = useTestSystem();

  test('three folders: byte-identical, flags and INTERNALDATE kept, mirrored or not, remote flags untouched', async () => {
    const user = await addUser('imap');
    const folders = { INBOX: folderCorpus('INBOX', 1), Work: folderCorpus('Work', 2), 'Work.2025': folderCorpus('Work.2025', 3) };
    for (const [folder, messages] of Object.entries(folders)) await appendMessages(user, folder, messages);
    await appendMessages(user, 'Trash', [{ raw: buildMessage({ subject: 'deleted stuff' }) }]);
    const before = {
      INBOX: await readFolder(user, 'INBOX'),
      Work: await readFolder(user, 'Work'),
      'Work.2025': await readFolder(user, 'Work.2025'),
    };

    const mirrored = await sys.localAccount('mirror@imap.test');
    const flat = await sys.localAccount('flat@imap.test');
    const all = { mode: 'all', exclude: ['\\Trash'] };
    const a = await sys.imapAccount(mirrored, user, { folders: all, mirrorFolders: true });
    const b = await sys.imapAccount(flat, user, { folders: all });

    const statusA = await sys.waitForCycles(a.id, 1);
    const statusB = await sys.waitForCycles(b.id, 1);
    for (const s of [statusA, statusB]) {
      assert.equal(s.lastError, null);
      assert.equal(s.lastRun?.delivered, 60);
      assert.equal(s.tls, 'starttls');
      assert.equal(s.tlsWarning, null);
    }

    const copiesA = await sys.storedCopies(mirrored.id);
    const copiesB = await sys.storedCopies(flat.id);
    assert.equal(copiesA.length, 60, 'the Trash folder is excluded by its special use');
    assert.equal(copiesB.length, 60);
    const localName = { INBOX: 'INBOX', Work: 'Work', 'Work.2025': 'Work/2025' } as const;
    for (const [folder, messages] of Object.entries(folders) as [keyof typeof localName, ReturnType<typeof folderCorpus>][]) {
      const inA = copiesA.filter((c) => c.folder === localName[folder]);
      assert.equal(inA.length, 20, `mirrored ${folder} → ${localName[folder]}`);
      messages.forEach((m, i) => {
        assert.ok(inA[i].raw.equals(m.raw), `${folder} #${i} is byte-identical`);
        assert.deepEqual(inA[i].internalDate, m.date, `${folder} #${i} keeps its INTERNALDATE`);
        assert.deepEqual(inA[i].flags, [...m.flags].sort(), `${folder} #${i} keeps its flags`);
      });
    }
    assert.ok(
      copiesB.every((c) => c.folder === 'INBOX'),
      'without mirroring everything lands in INBOX',
    );

    for (const folder of Object.keys(before) as (keyof typeof before)[]) {
      const now = await readFolder(user, folder);
      assert.deepEqual(
        now.map((m) => m.flags),
        before[folder].map((m) => m.flags),
        `collecting ${folder} changed no remote flag (\\Seen stays unset where it was unset)`,
      );
    }

    // A second cycle asks only for UIDs above those already seen: the new message, nothing else.
    const late = buildMessage({ subject: 'late arrival' });
    await appendMessages(user, 'Work', [{ raw: late, date: day(28) }]);
    await sys.ok('POST', `/api/external-accounts/${a.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(a.id, 2);
    assert.equal(second.lastRun?.onServer, 1, 'only the new UID was listed');
    assert.equal(second.lastRun?.delivered, 1);
    const copies = await sys.storedCopies(mirrored.id);
    assert.equal(copies.length, 61);
    assert.ok(copies[60].raw.equals(late));
    assert.equal(copies[60].folder, 'Work');
  });

  test('delete policy "immediately": delivered messages are expunged by UID, a too-large one stays', async () => {
    const user = await addUser('imapdel');
    const small = Array.from({ length: 5 }, (_, i) => ({ raw: buildMessage({ subject: `small ${i}` }) }));
    const huge = { raw: buildMessage({ subject: 'too large', body: textOfSize(3 * 1024 * 1024) }) };
    await appendMessages(user, 'INBOX', [...small.slice(0, 2), huge, ...small.slice(2)]);
    const owner = await sys.localAccount('deleter@imap.test');
    await sys.worker?.stop();
    await sys.startWorker({ MAILPULL_MAX_MESSAGE_BYTES: String(1024 * 1024) });
    const ext = await sys.imapAccount(owner, user, { deletePolicy: 'immediately' });
    const status = await sys.waitForCycles(ext.id, 1);
    assert.equal(status.lastRun?.delivered, 5);
    assert.equal(status.lastRun?.tooLarge, 1);
    assert.equal(status.lastRun?.removed, 5);
    const left = await readFolder(user, 'INBOX');
    assert.equal(left.length, 1);
    assert.ok(left[0].raw.equals(huge.raw), 'only the undelivered message is still on the server');
    assert.equal((await sys.storedCopies(owner.id)).length, 5);
  });

  test('"never" leaves the remote folder untouched; a folder that does not exist is named, the others collected', async () => {
    const user = await addUser('imapnever');
    await appendMessages(user, 'INBOX', [{ raw: buildMessage() }, { raw: buildMessage() }]);
    const owner = await sys.localAccount('never@imap.test');
    const ok = await sys.imapAccount(owner, user, { folders: { mode: 'list', names: ['INBOX'] } });
    const partly = await sys.imapAccount(owner, user, { folders: { mode: 'list', names: ['INBOX', 'Nowhere'] } });
    const bad = await sys.imapAccount(owner, user, { folders: { mode: 'list', names: ['Nowhere'] } });
    assert.equal((await sys.waitForCycles(ok.id, 1)).lastRun?.delivered, 2);
    assert.equal((await readFolder(user, 'INBOX')).length, 2);
    const warned = await sys.waitForCycles(partly.id, 1);
    assert.equal(warned.lastError, null);
    assert.equal(warned.lastRun?.delivered, 2);
    assert.match(warned.folderWarning ?? '', /"Nowhere" is not on the server/);
    const failed = await sys.waitForCycles(bad.id, 1);
    assert.equal(failed.lastError?.kind, 'config', 'nothing to collect at all');
    assert.match(failed.lastError?.message ?? '', /Nowhere/);
  });
});
