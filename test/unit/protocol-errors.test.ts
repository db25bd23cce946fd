import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyError, isRetryable, MailpullError, PeerSilenceError, withRef } from '../../core/errors';
import { apopTimestamp, capaKeywords, parseListing } from '../../core/pop3-replies';
import { imapRefusalKind, pop3RefusalKind, pop3ResponseCode } from '../../core/protocol-codes';
import { uidSets } from '../../core/uid-set';
import { imapError } from '../../mail/imap-connect';

describe('POP3 response codes (RFC 2449/3206)', () => {
  test('the code is read from the start of the text', () => {
    assert.equal(pop3ResponseCode('[SYS/TEMP] try later'), 'SYS/TEMP');
    assert.equal(pop3ResponseCode('[in-use] locked'), 'IN-USE');
    assert.equal(pop3ResponseCode('no code [AUTH]'), null);
    assert.equal(pop3ResponseCode('[AUTH no end'), null);
    assert.equal(pop3ResponseCode('[] empty'), null);
    assert.equal(pop3ResponseCode('[A B] space'), null);
  });
  test('each code maps to its class; a bare -ERR at login is an auth failure', () => {
    assert.equal(pop3RefusalKind('AUTH', false), 'auth');
    for (const code of ['SYS/TEMP', 'IN-USE', 'LOGIN-DELAY']) assert.equal(pop3RefusalKind(code, true), 'busy');
    assert.equal(pop3RefusalKind('SYS/PERM', true), 'permanent');
    assert.equal(pop3RefusalKind(null, true), 'auth');
    assert.equal(pop3RefusalKind(null, false), 'protocol');
    assert.equal(pop3RefusalKind('UNKNOWN-CODE', true), 'auth');
    assert.ok(isRetryable('busy'));
    assert.ok(!isRetryable('permanent'));
  });
});

describe('IMAP response codes (RFC 5530)', () => {
  test('auth codes, transient codes, permanent codes, BAD', () => {
    for (const code of ['AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED', 'EXPIRED']) assert.equal(imapRefusalKind('NO', code, true), 'auth');
    for (const code of ['UNAVAILABLE', 'INUSE', 'LIMIT', 'SERVERBUG']) assert.equal(imapRefusalKind('NO', code, true), 'busy');
    assert.equal(imapRefusalKind('NO', 'PRIVACYREQUIRED', true), 'tls');
    for (const code of ['CONTACTADMIN', 'NOPERM', 'CANNOT']) assert.equal(imapRefusalKind('NO', code, true), 'permanent');
    assert.equal(imapRefusalKind('BAD', null, false), 'permanent');
    assert.equal(imapRefusalKind('BAD', null, true), 'permanent');
    assert.equal(imapRefusalKind('NO', null, true), 'auth');
    assert.equal(imapRefusalKind('NO', null, false), 'protocol');
  });

  const loginError = (fields: Record<string, unknown>): Error =>
    Object.assign(new Error('Command failed'), { authenticationFailed: true }, fields);

  test('imapflow login errors: only a refusal of the credentials is auth', () => {
    assert.equal(imapError(loginError({ responseStatus: 'NO', serverResponseCode: 'AUTHENTICATIONFAILED' }), 1000).kind, 'auth');
    assert.equal(imapError(loginError({ responseStatus: 'NO', serverResponseCode: 'UNAVAILABLE' }), 1000).kind, 'busy');
    assert.equal(imapError(loginError({ responseStatus: 'BAD', responseText: 'syntax' }), 1000).kind, 'permanent');
    assert.equal(imapError(loginError({ code: 'NoConnection', message: 'Connection not available' }), 1000).kind, 'network');
    assert.equal(imapError(loginError({ code: 'EConnectionClosed' }), 1000).kind, 'network');
    assert.equal(imapError(loginError({ code: 'ETIMEOUT' }), 1000).kind, 'timeout');
    assert.equal(imapError(loginError({ code: 'ECONNRESET' }), 1000).kind, 'network');
    assert.equal(imapError(loginError({}), 1000).kind, 'network');
    assert.equal(imapError(loginError({ responseStatus: 'NO', serverResponseCode: 'PRIVACYREQUIRED' }), 1000).kind, 'tls');
  });

  test('imapflow errors after login', () => {
    assert.equal(imapError(Object.assign(new Error('x'), { responseStatus: 'BAD' }), 1000).kind, 'permanent');
    assert.equal(imapError(Object.assign(new Error('x'), { responseStatus: 'NO' }), 1000).kind, 'protocol');
    assert.equal(imapError(Object.assign(new Error('x'), { code: 'LiteralTooLarge' }), 1000).kind, 'protocol');
    assert.equal(imapError(Object.assign(new Error('x'), { code: 'ETHROTTLE' }), 1000).kind, 'busy');
  });
});

describe('classifyError', () => {
  const pgError = (code: string, message = 'pg'): Error => Object.assign(new Error(message), { code });
  test('Postgres errors by SQLSTATE: lost or restarting database is retryable', () => {
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300', '53100', '40001', '40P01']) {
      const c = classifyError(pgError(code));
      assert.equal(c.kind, 'database', code);
      assert.ok(c.retryable, code);
    }
    assert.equal(classifyError(pgError('22021')).kind, 'internal');
    assert.equal(classifyError(pgError('23505')).kind, 'internal');
    assert.equal(classifyError(new Error('Connection terminated unexpectedly')).kind, 'network');
    assert.equal(classifyError(pgError('ECONNREFUSED')).kind, 'network');
    assert.equal(classifyError(pgError('EPIPE')).kind, 'network');
    assert.equal(classifyError(new Error('something else')).kind, 'internal');
  });
  test('withRef names the message and keeps kind and text', () => {
    const ref = { folder: 'INBOX', uidvalidity: '7', uid: '42' };
    const err = withRef(new MailpullError('protocol', 'bad reply'), { ...ref, size: 10 } as typeof ref);
    assert.deepEqual(err.ref, ref);
    assert.equal(err.kind, 'protocol');
    assert.equal(err.message, 'bad reply');
    assert.deepEqual(withRef(pgError('57P01'), ref).kind, 'database');
  });
});

describe('uidSets', () => {
  test('compresses to sorted ranges without duplicates', () => {
    assert.deepEqual(uidSets([9, 1, 2, 3, 4, 5, 7, 10, 11, 12, 3, '2']), ['1:5,7,9:12']);
    assert.deepEqual(uidSets([]), []);
    assert.deepEqual(uidSets(['0', 'x', '-3', '4']), ['4']);
  });
  test('splits into sets no longer than the limit, covering every UID once', () => {
    const uids = Array.from({ length: 15_000 }, (_, i) => 2 * i + 1);
    const sets = uidSets(uids);
    assert.ok(sets.length > 1);
    for (const set of sets) assert.ok(set.length <= 8_000, `set of ${set.length} chars`);
    const back = sets.flatMap((s) => s.split(',').map(Number));
    assert.deepEqual(back, uids);
    const small = uidSets([1, 3, 5, 7, 9], 4);
    assert.deepEqual(small, ['1,3', '5,7', '9']);
  });
});

describe('POP3 replies', () => {
  test('APOP timestamp', () => {
    assert.equal(apopTimestamp('+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>'), '<1896.697170952@dbc.mtview.ca.us>');
    assert.equal(apopTimestamp('+OK <no-at> <a@b>'), '<a@b>');
    assert.equal(apopTimestamp('+OK <<<x@y>'), '<x@y>');
    assert.equal(apopTimestamp('+OK ready'), null);
    assert.equal(apopTimestamp('+OK <@>'), null);
  });
  test('listings: numbers and values, junk skipped', () => {
    const body = Buffer.from('1 120\r\n2\t  abc\r\n  3 x y\r\nfoo bar\r\n4\r\n12345678901 big\r\n5 last');
    assert.deepEqual(
      [...parseListing(body)],
      [
        [1, '120'],
        [2, 'abc'],
        [3, 'x'],
        [5, 'last'],
      ],
    );
  });
  test('unique ids with bytes outside 0x21-0x7E (a NUL) are escaped, so they stay distinct and storable', () => {
    const body = Buffer.concat([Buffer.from('1 a'), Buffer.from([0x00, 0xff]), Buffer.from('b\r\n2 a%00b\r\n3 plain\r\n')]);
    assert.deepEqual(
      [...parseListing(body)],
      [
        [1, 'a%00%FFb'],
        [2, 'a%2500b'],
        [3, 'plain'],
      ],
    );
  });
  test('a listing of 100,000 messages parses in linear time', () => {
    const listing = (n: number): Buffer =>
      Buffer.from(Array.from({ length: n }, (_, i) => `${i + 1} uid-${i}-0123456789abcdef\r\n`).join(''));
    // the best of 5 runs: one run stalled by a busy machine must not decide
    const time = (body: Buffer): number => {
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const started = process.hrtime.bigint();
        assert.ok(parseListing(body).size > 0);
        best = Math.min(best, Number(process.hrtime.bigint() - started));
      }
      return best;
    };
    const small = listing(10_000);
    const large = listing(100_000);
    time(small);
    // quadratic growth (100x) fails every attempt; a busy machine's pause spoils one at most
    let ratio = Infinity;
    for (let attempt = 0; attempt < 3 && ratio >= 40; attempt++) ratio = time(large) / time(small);
    assert.equal(parseListing(large).size, 100_000);
    assert.ok(ratio < 40, `10x input took ${ratio.toFixed(1)}x time`);
  });
  test('CAPA keywords', () => {
    assert.deepEqual([...capaKeywords(Buffer.from('USER\r\nuidl\r\n\r\n SASL PLAIN \r\n'))], ['USER', 'UIDL', 'SASL PLAIN']);
  });
});

describe('a silent peer, in words', () => {
  test('names the protocol, host:port, how long and the step; a timeout, retried', () => {
    const pop3 = { protocol: 'POP3', host: '127.0.0.1', port: 1234 };
    assert.equal(new PeerSilenceError(pop3, 'CAPA', 60_000).message, 'the POP3 server 127.0.0.1:1234 sent nothing for 60 s after CAPA');
    assert.equal(
      new PeerSilenceError({ protocol: 'IMAP', host: '::1', port: 143 }, 'UID FETCH', 2_500).message,
      'the IMAP server [::1]:143 sent nothing for 2.5 s after UID FETCH',
    );
    const greeting = new PeerSilenceError(pop3, 'greeting', 60_000, 'use tlsMode "direct"');
    assert.equal(
      greeting.message,
      'the POP3 server 127.0.0.1:1234 accepted the connection and then sent no greeting for 60 s; use tlsMode "direct"',
    );
    assert.deepEqual(classifyError(greeting), { kind: 'timeout', message: greeting.message, retryable: true });
  });
});
