import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { missingFolders, missingFoldersWarning, type RemoteFolder } from '../../core/folder-selection';
import { headerSectionHash, placeListed, recognizeReturning, type KnownIncarnation } from '../../core/pop3-identity';

const row = (incarnation: string, size: number, collected: boolean, gone: boolean): KnownIncarnation => ({
  incarnation,
  size,
  collected,
  gone,
});

describe('placeListed (a POP3 UIDL and its incarnations)', () => {
  const fresh = 'seen-again-2026';

  test('a UIDL never seen is its first incarnation', () => {
    assert.deepEqual(placeListed(100, [], fresh), { incarnation: '', retire: null });
  });

  test('a collected message still listed with its size is the same message', () => {
    assert.deepEqual(placeListed(100, [row('', 100, true, false)], fresh), { incarnation: '', retire: null });
  });

  test('a collected message listed with another size was replaced: new incarnation, the old one retired', () => {
    assert.deepEqual(placeListed(120, [row('', 100, true, false)], fresh), { incarnation: fresh, retire: '' });
  });

  test('a UIDL seen again after its collected message was gone is a new message', () => {
    assert.deepEqual(placeListed(100, [row('', 100, true, true)], fresh), { incarnation: fresh, retire: null });
    assert.deepEqual(placeListed(100, [row('', 100, true, true), row('x', 90, true, true)], fresh), {
      incarnation: fresh,
      retire: null,
    });
  });

  test('an uncollected message, listed again or revived after a listing missed it, keeps its row', () => {
    assert.deepEqual(placeListed(120, [row('', 100, false, false)], fresh), { incarnation: '', retire: null });
    assert.deepEqual(placeListed(100, [row('', 100, true, true), row('x', 100, false, true)], fresh), {
      incarnation: 'x',
      retire: null,
    });
  });
});

describe('headerSectionHash', () => {
  test('a message hashes as its TOP n 0 answer (header section and blank line), whatever its body', () => {
    const top = Buffer.from('Subject: a\r\nTo: b@c\r\n\r\n');
    const hash = headerSectionHash(top, 1024);
    assert.equal(headerSectionHash(Buffer.concat([top, Buffer.from('body\r\n')]), 1024), hash);
    assert.notEqual(headerSectionHash(Buffer.from('Subject: b\r\nTo: b@c\r\n\r\nbody\r\n'), 1024), hash);
    assert.equal(headerSectionHash(Buffer.concat([top, Buffer.from('x')]), 5), headerSectionHash(top, 5), 'as much as TOP keeps');
  });
});

describe('recognizeReturning', () => {
  test('a content delivered and no longer on the server is recognised as often as it is missing', () => {
    const copies = [{ contentHash: 'a', delivered: 2, onServer: 1 }];
    assert.deepEqual(recognizeReturning(['a', 'a', 'b'], copies), [true, false, false]);
  });

  test('copies beyond those delivered, and contents never delivered, are delivered', () => {
    assert.deepEqual(recognizeReturning(['a', 'a'], []), [false, false]);
    assert.deepEqual(recognizeReturning(['a'], [{ contentHash: 'a', delivered: 1, onServer: 1 }]), [false]);
  });
});

describe('missingFolders', () => {
  const folder = (path: string): RemoteFolder => ({ path, delimiter: '.', flags: [], specialUse: null });
  const server = [folder('INBOX'), folder('Work'), folder('Trash')];

  test('named folders the server lacks', () => {
    assert.deepEqual(missingFolders(server, { mode: 'list', names: ['INBOX', 'Old'] }, []), ['Old']);
  });

  test('folders collected before, with messages pending, that are gone and still selected', () => {
    assert.deepEqual(missingFolders(server, { mode: 'all', exclude: [] }, ['Projects', 'Work']), ['Projects']);
    assert.deepEqual(missingFolders(server, { mode: 'all', exclude: ['Projects'] }, ['Projects']), [], 'excluded: not wanted');
    assert.deepEqual(missingFolders(server, { mode: 'list', names: ['INBOX'] }, ['Projects']), [], 'no longer named');
  });

  test('says in words which folders are missing', () => {
    assert.equal(missingFoldersWarning([]), null);
    assert.match(missingFoldersWarning(['Projects']) ?? '', /"Projects" is not on the server/);
  });
});
