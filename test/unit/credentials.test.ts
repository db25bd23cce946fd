import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveOAuth } from '../../api/oauth-settings';
import { authBackoffMs } from '../../core/auth-backoff';
import { accessTokenUsable, readTokenAnswer } from '../../core/oauth';
import { xoauth2Response } from '../../mail/xoauth2';
import { newApiToken, parseApiToken, secretMatches } from '../../secrets/api-token';
import { parseKeys } from '../../secrets/keyring';
import { redactCommand, redactValues } from '../../secrets/redact';
import { generateKey, open, seal, secretKey } from '../../secrets/secret-box';

describe('secret box (AES-256-GCM)', () => {
  const key = secretKey(Buffer.from(generateKey(), 'base64'));
  test('opens what it sealed, only in the same context, and refuses tampering', () => {
    const sealed = seal(key, 'hunter2', 'external_account:a:password');
    assert.ok(!sealed.includes(Buffer.from('hunter2')));
    assert.equal(open(key, sealed, 'external_account:a:password'), 'hunter2');
    assert.throws(() => open(key, sealed, 'external_account:b:password'));
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    assert.throws(() => open(key, tampered, 'external_account:a:password'));
    assert.notDeepEqual(seal(key, 'hunter2', 'c'), seal(key, 'hunter2', 'c'), 'a fresh nonce each time');
  });
  test('the key id is derived from the key', () => {
    const raw = Buffer.alloc(32, 1);
    assert.equal(secretKey(raw).id, secretKey(Buffer.from(raw)).id);
    assert.notEqual(secretKey(raw).id, key.id);
    assert.throws(() => secretKey(Buffer.alloc(16)), /32 bytes/);
  });
  test('key lists: newest first, comments and commas allowed, bad keys named', () => {
    const [a, b] = [generateKey(), generateKey()];
    assert.equal(parseKeys(`# rotated\n${a}\n${b}\n`, 'f').length, 2);
    assert.equal(parseKeys(`${a},${b}`, 'env')[0].key.toString('base64'), a);
    assert.throws(() => parseKeys('short', 'MAILPULL_SECRET_KEY'), /MAILPULL_SECRET_KEY: key 1 is not base64 of 32 bytes/);
    assert.throws(() => parseKeys('# nothing\n', 'f'), /holds no key/);
  });
});

describe('redaction', () => {
  test('login commands keep their verb and lose their arguments', () => {
    assert.equal(redactCommand('PASS s3cret'), 'PASS ****');
    assert.equal(redactCommand('APOP user 0123abcd'), 'APOP ****');
    assert.equal(redactCommand('AUTH XOAUTH2 dXNlcj1'), 'AUTH XOAUTH2 ****');
    assert.equal(redactCommand('A1 LOGIN "u" "p"'), 'A1 LOGIN ****');
    assert.equal(redactCommand('4 AUTHENTICATE PLAIN AHUAcA=='), '4 AUTHENTICATE PLAIN ****');
    assert.equal(redactCommand('USER alice'), 'USER alice');
    assert.equal(redactCommand('RETR 1'), 'RETR 1');
  });
  test('known secret values are masked anywhere', () => {
    assert.equal(redactValues('server said: bad token at-123456', ['at-123456', undefined, 'x']), 'server said: bad token ****');
  });
});

describe('OAuth2', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  test('an access token is used until five minutes before it expires', () => {
    assert.equal(accessTokenUsable('t', new Date('2026-01-01T12:10:00Z'), now), true);
    assert.equal(accessTokenUsable('t', new Date('2026-01-01T12:04:00Z'), now), false);
    assert.equal(accessTokenUsable(undefined, new Date('2026-01-01T13:00:00Z'), now), false);
    assert.equal(accessTokenUsable('t', null, now), false);
  });
  test('the XOAUTH2 initial response', () => {
    assert.equal(Buffer.from(xoauth2Response('u@x', 'tok'), 'base64').toString(), 'user=u@x\x01auth=Bearer tok\x01\x01');
  });
  test('token endpoint answers: invalid_grant needs reauthorization, 5xx is retried, a refused client is a setting', () => {
    assert.deepEqual(readTokenAnswer(200, { access_token: 'a', expires_in: 3599 }), {
      ok: true,
      accessToken: 'a',
      expiresInSeconds: 3599,
      refreshToken: null,
    });
    assert.equal((readTokenAnswer(200, { access_token: 'a', refresh_token: 'r2' }) as { refreshToken: string }).refreshToken, 'r2');
    assert.deepEqual(readTokenAnswer(200, {}), {
      ok: false,
      kind: 'protocol',
      message: 'the token endpoint answered 200 without an access_token',
    });
    const revoked = readTokenAnswer(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    assert.equal(revoked.ok === false && revoked.kind, 'reauth');
    assert.match(revoked.ok === false ? revoked.message : '', /^reauthorization needed: .*invalid_grant: Token has been expired/);
    assert.equal((readTokenAnswer(503, null) as { kind: string }).kind, 'network');
    assert.equal((readTokenAnswer(429, {}) as { kind: string }).kind, 'network');
    assert.equal((readTokenAnswer(401, { error: 'invalid_client' }) as { kind: string }).kind, 'config');
  });
  test('presets fill the endpoint and scope; custom needs an endpoint; a new provider takes its own preset', () => {
    const google = resolveOAuth(null, { provider: 'google', clientId: 'c' });
    assert.deepEqual(google, { provider: 'google', tokenEndpoint: 'https://oauth2.googleapis.com/token', clientId: 'c', scope: null });
    const microsoft = resolveOAuth(null, { provider: 'microsoft', clientId: 'c' });
    assert.ok('scope' in microsoft && /IMAP\.AccessAsUser\.All.*offline_access/.test(microsoft.scope ?? ''));
    assert.deepEqual(resolveOAuth(null, { provider: 'custom', clientId: 'c' }), {
      field: 'oauth.tokenEndpoint',
      message: 'is required for provider custom',
    });
    assert.deepEqual(resolveOAuth(null, { clientId: 'c' }), {
      field: 'oauth.provider',
      message: 'is required for authMethod xoauth2 (google, microsoft or custom)',
    });
    const switched = resolveOAuth(microsoft, { provider: 'google' });
    assert.deepEqual(switched, google);
    assert.deepEqual(resolveOAuth(google as never, { scope: 'https://mail.google.com/' }), {
      ...google,
      scope: 'https://mail.google.com/',
    });
  });
});

describe('authentication backoff', () => {
  test('the interval, then doubling, capped at a day (or the interval when longer)', () => {
    const minute = 60_000;
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => authBackoffMs(minute, n) / minute),
      [1, 2, 4, 8, 16],
    );
    assert.equal(authBackoffMs(30 * minute, 20), 24 * 60 * minute);
    assert.equal(authBackoffMs(30 * minute, 1000), 24 * 60 * minute);
    assert.equal(authBackoffMs(2 * 24 * 60 * minute, 3), 2 * 24 * 60 * minute);
  });
});

describe('API tokens', () => {
  test('parsed by shape, matched by hash', () => {
    const token = newApiToken();
    const parsed = parseApiToken(token.token);
    assert.ok(parsed);
    assert.equal(parsed.id, token.id);
    assert.equal(secretMatches(parsed.secret, token.secretHash), true);
    assert.equal(
      secretMatches(
        parsed.secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        token.secretHash,
      ),
      false,
    );
    assert.equal(parseApiToken('Bearer nonsense'), null);
    assert.equal(parseApiToken(`${token.token}x`), null);
  });
});
