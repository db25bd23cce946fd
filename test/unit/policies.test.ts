import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selectForDeletion, type IndexedMessage } from '../../core/delete-policy';
import { planDownloads } from '../../core/download-plan';
import { classifyError, MailpullError } from '../../core/errors';
import { decideUpgrade, defaultPort, portAfterChange } from '../../core/tls-decision';

const DAY = 86_400_000;
const now = new Date('2026-11-21T12:00:00Z');
const entry = (uid: string, ageDays: number, delivered: boolean): [string, IndexedMessage] => [
  uid,
  { uid, firstSeenAt: new Date(now.getTime() - ageDays * DAY), deliveredAt: delivered ? now : null },
];

describe('selectForDeletion', () => {
  const index = new Map([entry('old', 10, true), entry('new', 1, true), entry('undelivered', 30, false)]);
  const onServer = ['old', 'new', 'undelivered', 'unknown'];

  test('never deletes nothing', () => {
    assert.deepEqual(selectForDeletion(onServer, index, { mode: 'never' }, now), []);
  });
  test('immediately deletes exactly the delivered ones', () => {
    assert.deepEqual(selectForDeletion(onServer, index, { mode: 'immediately' }, now), ['old', 'new']);
  });
  test('afterDays deletes delivered messages first seen more than N days ago', () => {
    assert.deepEqual(selectForDeletion(onServer, index, { mode: 'afterDays', days: 7 }, now), ['old']);
    assert.deepEqual(selectForDeletion(onServer, index, { mode: 'afterDays', days: 0 }, now), ['old', 'new']);
  });
});

describe('planDownloads', () => {
  const server = [
    { uid: 'a', size: 10 },
    { uid: 'b', size: 500 },
    { uid: 'c', size: 10 },
    { uid: 'd', size: 10 },
  ];
  test('skips delivered messages and bounds the batch by count', () => {
    const plan = planDownloads(server, new Set(['a']), { maxMessages: 2, maxBytes: 1e9, maxMessageBytes: 1e9 });
    assert.deepEqual(plan.batch.map((m) => m.uid), ['b', 'c']);
    assert.equal(plan.remaining, 1);
  });
  test('bounds the batch by bytes but always takes one message', () => {
    const plan = planDownloads(server, new Set(['a']), { maxMessages: 10, maxBytes: 100, maxMessageBytes: 1e9 });
    assert.deepEqual(plan.batch.map((m) => m.uid), ['b']);
    assert.equal(plan.remaining, 2);
  });
  test('keeps server order: a later small message does not jump a full batch', () => {
    const plan = planDownloads(server, new Set(), { maxMessages: 10, maxBytes: 20, maxMessageBytes: 1e9 });
    assert.deepEqual(plan.batch.map((m) => m.uid), ['a']);
    assert.equal(plan.remaining, 3);
  });
  test('messages over the size limit are reported, not downloaded', () => {
    const plan = planDownloads(server, new Set(), { maxMessages: 10, maxBytes: 1e9, maxMessageBytes: 100 });
    assert.deepEqual(plan.tooLarge.map((m) => m.uid), ['b']);
    assert.deepEqual(plan.batch.map((m) => m.uid), ['a', 'c', 'd']);
  });
});

describe('TLS decision', () => {
  test('detect upgrades only when offered; other modes never upgrade', () => {
    assert.equal(decideUpgrade('detect', true), 'upgrade');
    assert.equal(decideUpgrade('detect', false), 'plaintext');
    assert.equal(decideUpgrade('disabled', true), 'plaintext');
    assert.equal(decideUpgrade('direct', true), 'plaintext');
  });
  test('a default port follows a change of mode; an explicit or custom port stays', () => {
    const stored = { port: 110, tlsMode: 'detect' as const };
    assert.equal(portAfterChange('pop3', stored, { tlsMode: 'direct' }), 995);
    assert.equal(portAfterChange('pop3', stored, { tlsMode: 'direct', port: 1995 }), 1995);
    assert.equal(portAfterChange('pop3', { port: 2110, tlsMode: 'detect' }, { tlsMode: 'direct' }), 2110);
    assert.equal(portAfterChange('pop3', { port: 995, tlsMode: 'direct' }, { tlsMode: 'disabled' }), 110);
    assert.equal(portAfterChange('pop3', stored, {}), 110);
  });
  test('default ports follow the mode', () => {
    assert.equal(defaultPort('pop3', 'detect'), 110);
    assert.equal(defaultPort('pop3', 'disabled'), 110);
    assert.equal(defaultPort('pop3', 'direct'), 995);
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
