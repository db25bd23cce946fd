import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localFolderFor } from '../../core/folder-selection';
import { capaKeywords, capaOffers } from '../../core/pop3-replies';
import { retrievedSizeMismatch, sizeMismatchNote } from '../../core/retrieved-size';
import { announcedUidNext, highestGivenUid, mayHoldUidsFrom, unseenAtOpen } from '../../core/uid-next';

describe('UIDNEXT, announced or not (Courier announces none)', () => {
  test('only a positive integer counts as announced', () => {
    assert.equal(announcedUidNext(42), 42);
    assert.equal(announcedUidNext(undefined), null);
    assert.equal(announcedUidNext(null), null);
    assert.equal(announcedUidNext(Number.NaN), null);
    assert.equal(announcedUidNext(0), null);
    assert.equal(announcedUidNext(1.5), null);
  });

  test('without UIDNEXT every folder with messages is asked for new UIDs; with it only when UIDNEXT is above', () => {
    assert.equal(mayHoldUidsFrom(3, null, 1), true);
    assert.equal(mayHoldUidsFrom(3, null, 500), true);
    assert.equal(mayHoldUidsFrom(0, null, 1), false);
    assert.equal(mayHoldUidsFrom(3, 11, 11), false);
    assert.equal(mayHoldUidsFrom(3, 12, 11), true);
  });

  test('the highest UID comes from what was fetched when there is no UIDNEXT, and is never NaN', () => {
    assert.equal(highestGivenUid(0, [3, 9, 4], null), 9);
    assert.equal(highestGivenUid(12, [], null), 12, 'nothing new: what was known');
    assert.equal(highestGivenUid(0, [], null), 0);
    assert.equal(highestGivenUid(0, [3, 4], 10), 9, 'UIDs below UIDNEXT were given out (expunged before we saw them)');
    assert.equal(highestGivenUid(20, [], 10), 20, 'never goes back');
    assert.ok(Number.isInteger(highestGivenUid(0, [], announcedUidNext(undefined))));
  });

  test('IDLE starts with "new mail" when the folder holds a UID above the cursor, UIDNEXT or not', () => {
    const cursor = { uidvalidity: '7', highestUid: 5 };
    assert.equal(unseenAtOpen(cursor, '7', 5), false);
    assert.equal(unseenAtOpen(cursor, '7', 6), true);
    assert.equal(unseenAtOpen(cursor, '7', null), false, 'an empty folder has nothing new');
    assert.equal(unseenAtOpen(cursor, '8', 5), true, 'another UIDVALIDITY');
    assert.equal(unseenAtOpen(undefined, '7', null), true, 'never listed');
  });
});

describe('POP3: UTF8 and RETR sizes', () => {
  test('UTF8 is offered with or without arguments; the word must be whole', () => {
    const courier = capaKeywords(Buffer.from('STLS\r\nTOP\r\nUSER\r\nUTF8 USER\r\nPIPELINING\r\nUIDL\r\n'));
    assert.equal(capaOffers(courier, 'UTF8'), true);
    assert.equal(capaOffers(capaKeywords(Buffer.from('utf8\r\n')), 'UTF8'), true);
    assert.equal(capaOffers(capaKeywords(Buffer.from('UTF8X\r\nTOP\r\n')), 'UTF8'), false);
    assert.equal(capaOffers(null, 'UTF8'), false);
  });

  test('a RETR of another size than LIST said is a mismatch, in either direction', () => {
    assert.equal(retrievedSizeMismatch(163, 163), null);
    assert.deepEqual(retrievedSizeMismatch(163, 897), { listed: 163, received: 897 });
    assert.deepEqual(retrievedSizeMismatch(897, 163), { listed: 897, received: 163 });
    assert.match(sizeMismatchNote({ listed: 163, received: 897 }), /897 bytes where LIST said 163.*kept on the server/);
  });
});

describe('local folder names under a personal namespace prefix', () => {
  const courier = { prefix: 'INBOX.', delimiter: '.' };
  const at = (path: string, delimiter: string | null = '.') => ({ path, delimiter });

  test('"INBOX.Work" is "Work", its children "Work/2025"; INBOX stays INBOX', () => {
    assert.equal(localFolderFor(at('INBOX.Work'), courier), 'Work');
    assert.equal(localFolderFor(at('INBOX.Work.2025'), courier), 'Work/2025');
    assert.equal(localFolderFor(at('INBOX'), courier), 'INBOX');
  });

  test('outside the personal namespace, or where the rest would be INBOX, the whole path is kept', () => {
    assert.equal(localFolderFor(at('#shared.news'), courier), '#shared/news');
    assert.equal(localFolderFor(at('INBOX.INBOX'), courier), 'INBOX/INBOX');
    assert.equal(localFolderFor(at('INBOX.inbox'), courier), 'INBOX/inbox');
  });

  test('an empty prefix (Dovecot) or no NAMESPACE changes nothing', () => {
    assert.equal(localFolderFor(at('Work.2025'), { prefix: '', delimiter: '.' }), 'Work/2025');
    assert.equal(localFolderFor(at('INBOX.Work'), null), 'INBOX/Work');
    assert.equal(localFolderFor(at('INBOX/Work', '/'), { prefix: 'INBOX/', delimiter: '/' }), 'Work');
  });
});
