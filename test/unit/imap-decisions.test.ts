import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { protocolMismatch } from '../../api/schemas';
import { decideExpunge } from '../../core/expunge-decision';
import { localFolderFor, selectFolders, type RemoteFolder } from '../../core/folder-selection';
import { parseHeaders } from '../../core/headers';
import { receiveTime } from '../../core/receive-time';
import { recognizeCopies } from '../../core/recognition';

const folder = (path: string, extra: Partial<RemoteFolder> = {}): RemoteFolder => ({
  path,
  delimiter: '.',
  flags: [],
  specialUse: null,
  ...extra,
});

describe('selectFolders', () => {
  const server = [
    folder('INBOX'),
    folder('Archive', { flags: ['\\Noselect'] }),
    folder('Archive.2025'),
    folder('Trash', { specialUse: '\\Trash' }),
    folder('Junk', { specialUse: '\\Junk' }),
    folder('Sent Items', { specialUse: '\\Sent' }),
    folder('Work'),
  ];
  const paths = (r: { collect: RemoteFolder[] }): string[] => r.collect.map((f) => f.path);

  test('inbox by default', () => {
    assert.deepEqual(paths(selectFolders(server, { mode: 'inbox' })), ['INBOX']);
  });
  test('a list: INBOX matched case-insensitively, missing names reported', () => {
    const r = selectFolders(server, { mode: 'list', names: ['inbox', 'Work', 'Nope'] });
    assert.deepEqual(paths(r), ['INBOX', 'Work']);
    assert.deepEqual(r.missing, ['Nope']);
  });
  test('a \\Noselect folder is never collected, even when named', () => {
    assert.deepEqual(selectFolders(server, { mode: 'list', names: ['Archive'] }).missing, ['Archive']);
  });
  test('all, excluding by special-use and by name', () => {
    assert.deepEqual(paths(selectFolders(server, { mode: 'all', exclude: ['\\Trash', '\\junk', 'sent items'] })), [
      'INBOX',
      'Archive.2025',
      'Work',
    ]);
  });
  test('mirrored paths use / between levels', () => {
    assert.equal(localFolderFor(folder('Archive.2025')), 'Archive/2025');
    assert.equal(localFolderFor(folder('Work/2025', { delimiter: '/' })), 'Work/2025');
    assert.equal(localFolderFor(folder('inbox')), 'INBOX');
  });
});

describe('receiveTime', () => {
  const downloadedAt = new Date('2026-11-21T12:00:00Z');
  const headers = parseHeaders(
    Buffer.from(
      'Received: from b by c; Tue, 3 Nov 2026 10:00:00 +0000\r\n' +
        'Received: from a by b; Tue, 3 Nov 2026 09:59:00 +0000 (UTC)\r\n' +
        'Received: from nowhere; not a date\r\nSubject: x\r\n\r\nbody',
    ),
  );
  test('INTERNALDATE wins', () => {
    const internal = new Date('2020-01-01T00:00:00Z');
    assert.deepEqual(receiveTime(internal, headers, 'receivedHeader', downloadedAt), internal);
  });
  test('the newest Received date, with the option', () => {
    assert.deepEqual(receiveTime(null, headers, 'receivedHeader', downloadedAt), new Date('2026-11-03T10:00:00Z'));
  });
  test('the download time without the option or without a usable Received header', () => {
    assert.deepEqual(receiveTime(null, headers, 'download', downloadedAt), downloadedAt);
    assert.deepEqual(receiveTime(null, parseHeaders(Buffer.from('Subject: x\r\n\r\n')), 'receivedHeader', downloadedAt), downloadedAt);
  });
});

describe('recognizeCopies', () => {
  const c = (contentHash: string, uidvalidity = '2', f = 'INBOX') => ({ folder: f, uidvalidity, contentHash });
  test('copies delivered under an earlier UIDVALIDITY are recognised; new content is not', () => {
    const stored = [{ folder: 'INBOX', uidvalidity: '1', contentHash: 'a', count: 1 }];
    assert.deepEqual(recognizeCopies([c('a'), c('b')], stored, []), [true, false]);
  });
  test('copies stored under the same UIDVALIDITY are not a resync', () => {
    const stored = [{ folder: 'INBOX', uidvalidity: '2', contentHash: 'a', count: 1 }];
    assert.deepEqual(recognizeCopies([c('a')], stored, []), [false]);
  });
  test('counts: two old copies, three new ones → one is delivered', () => {
    const stored = [{ folder: 'INBOX', uidvalidity: '1', contentHash: 'a', count: 2 }];
    assert.deepEqual(recognizeCopies([c('a'), c('a'), c('a')], stored, []), [true, true, false]);
  });
  test('copies recognised by earlier batches count, and other folders do not match', () => {
    const stored = [{ folder: 'INBOX', uidvalidity: '1', contentHash: 'a', count: 1 }];
    const earlier = [{ folder: 'INBOX', uidvalidity: '2', contentHash: 'a', count: 1 }];
    assert.deepEqual(recognizeCopies([c('a')], stored, earlier), [false]);
    assert.deepEqual(recognizeCopies([c('a', '2', 'Work')], stored, []), [false]);
  });
});

describe('decideExpunge', () => {
  test('UIDPLUS removes exactly ours', () => {
    assert.equal(decideExpunge(true, ['1'], ['1', '2']), 'uid-expunge');
  });
  test('without UIDPLUS, EXPUNGE only when every \\Deleted message is ours', () => {
    assert.equal(decideExpunge(false, ['1', '2'], ['1', '2']), 'expunge');
    assert.equal(decideExpunge(false, ['1'], ['1', '5']), 'leave-flagged');
  });
});

describe('protocolMismatch', () => {
  const base = {
    protocol: 'pop3' as 'pop3' | 'imap',
    authMethod: 'password' as 'password' | 'apop',
    folders: { mode: 'inbox' },
    mirrorFolders: false,
    push: false,
    receiveTime: 'download' as 'download' | 'receivedHeader',
  };
  test('names the field that belongs to the other protocol', () => {
    assert.equal(protocolMismatch(base), null);
    assert.equal(protocolMismatch({ ...base, authMethod: 'apop' }), null);
    assert.equal(protocolMismatch({ ...base, push: true })?.field, 'push');
    assert.equal(protocolMismatch({ ...base, folders: { mode: 'all' } })?.field, 'folders');
    assert.equal(protocolMismatch({ ...base, protocol: 'imap', authMethod: 'apop' })?.field, 'authMethod');
    assert.equal(protocolMismatch({ ...base, protocol: 'imap', receiveTime: 'receivedHeader' })?.field, 'receiveTime');
    assert.equal(protocolMismatch({ ...base, protocol: 'imap', push: true, mirrorFolders: true }), null);
  });
});
