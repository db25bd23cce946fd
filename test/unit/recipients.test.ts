import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHeaders } from '../../core/headers';
import { DEFAULT_RECIPIENT_HEADERS, candidateAddresses, chooseRecipients, recipientDomainScope } from '../../core/recipients';

const all = { enabled: true, headers: DEFAULT_RECIPIENT_HEADERS };
const headersOf = (text: string) => parseHeaders(Buffer.from(text.replace(/\n/g, '\r\n') + '\r\n\r\nbody\r\n', 'latin1'));

describe('candidateAddresses', () => {
  test('reads To, CC, X-RCPT-TO, X-Envelope-To and the "for" clause of every Received header', () => {
    const headers = headersOf(
      [
        'Received: from mx.example by relay.example with ESMTP id 1',
        '\tfor <Recv@Local.Test>; Sat, 21 Nov 2026 10:00:00 +0000',
        'Received: from a by b for other@local.test; Sat, 21 Nov 2026 09:00:00 +0000',
        'To: "Ann" <ann@local.test>, group: gm@local.test, gn@local.test;',
        'Cc: cc@local.test',
        'X-RCPT-TO: <xr@local.test>',
        'X-Envelope-To: xe@local.test',
        'Bcc: hidden@local.test',
      ].join('\n'),
    );
    assert.deepEqual(candidateAddresses(headers, all).sort(), [
      'ann@local.test',
      'cc@local.test',
      'gm@local.test',
      'gn@local.test',
      'other@local.test',
      'recv@local.test',
      'xe@local.test',
      'xr@local.test',
    ]);
  });

  test('reads only the configured headers', () => {
    const headers = headersOf('To: a@local.test\nCc: b@local.test\nReceived: by x for <c@local.test>; now');
    assert.deepEqual(candidateAddresses(headers, { enabled: true, headers: ['cc'] }), ['b@local.test']);
  });

  test('nothing when the option is off', () => {
    assert.deepEqual(candidateAddresses(headersOf('To: a@local.test'), { enabled: false, headers: ['To'] }), []);
  });

  test('survives malformed headers', () => {
    const headers = headersOf('garbage without colon\nTo: <<<>>> ,, "unterminated <x@local.test\nCC: ok@local.test');
    assert.ok(candidateAddresses(headers, all).includes('ok@local.test'));
  });
});

describe('chooseRecipients', () => {
  const local = new Map([
    ['ann@local.test', 'A'],
    ['bob@local.test', 'B'],
  ]);

  test('only existing local accounts, deduplicated', () => {
    assert.deepEqual(chooseRecipients(['ann@local.test', 'x@remote.test', 'bob@local.test', 'ann@local.test'], local, 'OWNER'), ['A', 'B']);
  });

  test('nobody resolvable → the fallback', () => {
    assert.deepEqual(chooseRecipients(['x@remote.test', 'nobody@local.test'], local, 'OWNER'), ['OWNER']);
    assert.deepEqual(chooseRecipients([], local, 'OWNER'), ['OWNER']);
  });
});

describe('recipientDomainScope', () => {
  test("the owner's domain by default, every local domain only when the account allows it", () => {
    assert.equal(recipientDomainScope({ allDomains: false }, 'd1'), 'd1');
    assert.equal(recipientDomainScope({ allDomains: true }, 'd1'), null);
  });
});
