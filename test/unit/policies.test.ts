import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selectForDeletion, type IndexedMessage } from '../../core/delete-policy';
import { messageKey, takeBatch, type MessageRef } from '../../core/download-plan';
import { classifyError, MailpullError } from '../../core/errors';
import { decideUpgrade, defaultPort, portAfterChange, tlsWarning } from '../../core/tls-decision';

const DAY = 86_400_000;
const now = new Date('2026-11-21T12:00:00Z');
const ref = (uid: string, folder = '', uidvalidity = ''): MessageRef => ({ folder, uidvalidity, uid });
const entry = (uid: string, ageDays: number, delivered: boolean, folder = ''): [string, IndexedMessage] => [
  messageKey(ref(uid, folder)),
  { ...ref(uid, folder), size: 100, firstSeenAt: new Date(now.getTime() - ageDays * DAY), deliveredAt: delivered ? now : null },
];
const uids = (refs: readonly MessageRef[]): string[] => refs.map((r) => r.uid);

describe('selectForDeletion', () => {
  const index = new Map([entry('old', 10, true), entry('new', 1, true), entry('undelivered', 30, false)]);
  const onServer = ['old', 'new', 'undelivered', 'unknown'].map((uid) => ({ ...ref(uid), size: 100 }));

  test('a message whose size differs from the one delivered, or whose key the server lists twice, is never deleted', () => {
    const listed = [
      { ...ref('old'), size: 101 },
      { ...ref('new'), size: 100 },
      { ...ref('new'), size: 100 },
    ];
    assert.deepEqual(selectForDeletion(listed, index, { mode: 'immediately' }, now), []);
  });
  test('a message whose RETR brought another size than LIST said is never deleted, though LIST still says that size', () => {
    const [key, delivered] = entry('stub', 10, true);
    const mismatched = new Map([[key, { ...delivered, retrievedSize: 897 }]]);
    assert.deepEqual(selectForDeletion([{ ...ref('stub'), size: 100 }], mismatched, { mode: 'immediately' }, now), []);
    const agreeing = new Map([[key, { ...delivered, retrievedSize: 100 }]]);
    assert.deepEqual(uids(selectForDeletion([{ ...ref('stub'), size: 100 }], agreeing, { mode: 'immediately' }, now)), ['stub']);
  });
  test('never deletes nothing', () => {
    assert.deepEqual(selectForDeletion(onServer, index, { mode: 'never' }, now), []);
  });
  test('immediately deletes exactly the delivered ones', () => {
    assert.deepEqual(uids(selectForDeletion(onServer, index, { mode: 'immediately' }, now)), ['old', 'new']);
  });
  test('afterDays deletes delivered messages first seen more than N days ago', () => {
    assert.deepEqual(uids(selectForDeletion(onServer, index, { mode: 'afterDays', days: 7 }, now)), ['old']);
    assert.deepEqual(uids(selectForDeletion(onServer, index, { mode: 'afterDays', days: 0 }, now)), ['old', 'new']);
  });
  test('the same UID in another folder or UIDVALIDITY is another message', () => {
    const imapIndex = new Map([entry('7', 1, true, 'Work')]);
    const candidates = [ref('7', 'Work'), ref('7', 'INBOX'), ref('7', 'Work', '99')].map((r) => ({ ...r, size: 100 }));
    assert.deepEqual(selectForDeletion(candidates, imapIndex, { mode: 'immediately' }, now), [{ ...ref('7', 'Work'), size: 100 }]);
  });
});

describe('takeBatch', () => {
  const message = (uid: string, size: number) => ({ ...ref(uid), size });
  const queue = [message('a', 10), message('b', 500), message('c', 10), message('d', 10)];
  test('takes what fits the byte budget, in order', () => {
    assert.deepEqual(
      takeBatch(queue, 1e9).map((m) => m.uid),
      ['a', 'b', 'c', 'd'],
    );
    assert.deepEqual(
      takeBatch(queue.slice(2), 15).map((m) => m.uid),
      ['c'],
    );
  });
  test('keeps order: a later small message does not jump a large one', () => {
    assert.deepEqual(
      takeBatch(queue, 20).map((m) => m.uid),
      ['a'],
    );
  });
  test('a single message larger than the budget still goes, alone', () => {
    assert.deepEqual(
      takeBatch(queue.slice(1), 100).map((m) => m.uid),
      ['b'],
    );
    assert.deepEqual(takeBatch([], 100), []);
  });
});

describe('TLS decision', () => {
  test('detect upgrades only when offered; other modes never upgrade', () => {
    assert.equal(decideUpgrade('detect', true), 'upgrade');
    assert.equal(decideUpgrade('detect', false), 'plaintext');
    assert.equal(decideUpgrade('disabled', true), 'plaintext');
    assert.equal(decideUpgrade('direct', true), 'plaintext');
  });
  test('starttls upgrades when offered and refuses, before any login, when not', () => {
    assert.equal(decideUpgrade('starttls', true), 'upgrade');
    assert.equal(decideUpgrade('starttls', false), 'refuse');
  });
  test('a default port follows a change of mode; an explicit or custom port stays', () => {
    const stored = { port: 110, tlsMode: 'detect' as const };
    assert.equal(portAfterChange('pop3', stored, { tlsMode: 'direct' }), 995);
    assert.equal(portAfterChange('pop3', stored, { tlsMode: 'direct', port: 1995 }), 1995);
    assert.equal(portAfterChange('pop3', { port: 2110, tlsMode: 'detect' }, { tlsMode: 'direct' }), 2110);
    assert.equal(portAfterChange('pop3', { port: 995, tlsMode: 'direct' }, { tlsMode: 'disabled' }), 110);
    assert.equal(portAfterChange('pop3', stored, {}), 110);
  });
  test('default ports follow protocol and mode', () => {
    assert.equal(defaultPort('pop3', 'detect'), 110);
    assert.equal(defaultPort('pop3', 'disabled'), 110);
    assert.equal(defaultPort('pop3', 'starttls'), 110);
    assert.equal(defaultPort('pop3', 'direct'), 995);
    assert.equal(defaultPort('imap', 'detect'), 143);
    assert.equal(defaultPort('imap', 'direct'), 993);
    assert.deepEqual([defaultPort('smtp', 'detect'), defaultPort('smtp', 'direct'), defaultPort('lmtp', 'direct')], [25, 465, 24]);
    assert.equal(portAfterChange('imap', { port: 143, tlsMode: 'detect' }, { tlsMode: 'direct' }), 993);
  });
  test('the status warns about plaintext and about unchecked certificates, nothing else', () => {
    assert.match(tlsWarning('plaintext', false) ?? '', /not encrypted/);
    assert.match(tlsWarning('starttls', true) ?? '', /not checked/);
    assert.equal(tlsWarning('implicit', false), null);
    assert.equal(tlsWarning('starttls', false), null);
  });
});

describe('classifyError', () => {
  test('authentication and configuration failures are permanent; network trouble is retried', () => {
    assert.equal(classifyError(new MailpullError('auth', 'no')).retryable, false);
    assert.equal(classifyError(new MailpullError('inactive', 'off')).retryable, false);
    assert.equal(classifyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).kind, 'network');
    assert.equal(classifyError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).retryable, true);
    assert.equal(classifyError(Object.assign(new Error('bad cert'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })).kind, 'tls');
    assert.equal(classifyError(new Error('???')).kind, 'internal');
  });
});
