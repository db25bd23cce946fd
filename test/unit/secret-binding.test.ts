import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  accountSecretBinding,
  misboundMessage,
  rebinding,
  targetPasswordBinding,
  type AccountSecretName,
  type BoundServer,
} from '../../core/secret-binding';

const server: BoundServer = {
  protocol: 'imap',
  host: 'imap.example.com',
  port: 993,
  tlsMode: 'direct',
  tlsCa: null,
  allowInvalidCertificates: false,
  username: 'alice',
};
const oauth = { tokenEndpoint: 'https://oauth2.example.com/token', clientId: 'client' };

describe('secret binding', () => {
  test('a password is bound to every part of where it is sent', () => {
    const bound = accountSecretBinding('password', server, null);
    const changes: Partial<BoundServer>[] = [
      { protocol: 'pop3' },
      { host: 'evil.example.com' },
      { host: 'IMAP.example.com' },
      { port: 143 },
      { tlsMode: 'disabled' },
      { tlsCa: '-----BEGIN CERTIFICATE-----' },
      { allowInvalidCertificates: true },
      { username: 'bob' },
    ];
    for (const change of changes) {
      assert.notEqual(accountSecretBinding('password', { ...server, ...change }, null), bound, JSON.stringify(change));
    }
    assert.equal(accountSecretBinding('password', { ...server }, oauth), bound, 'the token endpoint is not where a password goes');
  });

  test('a client secret goes to the token endpoint; a refresh or access token is bound to it and to the server', () => {
    const moved = { ...server, host: 'evil.example.com' };
    const otherEndpoint = { ...oauth, tokenEndpoint: 'https://evil.example.com/token' };
    assert.equal(accountSecretBinding('oauth_client_secret', moved, oauth), accountSecretBinding('oauth_client_secret', server, oauth));
    assert.notEqual(
      accountSecretBinding('oauth_client_secret', server, otherEndpoint),
      accountSecretBinding('oauth_client_secret', server, oauth),
    );
    for (const name of ['oauth_refresh_token', 'oauth_access_token'] as const) {
      const bound = accountSecretBinding(name, server, oauth);
      assert.notEqual(accountSecretBinding(name, moved, oauth), bound);
      assert.notEqual(accountSecretBinding(name, server, otherEndpoint), bound);
      assert.notEqual(accountSecretBinding(name, server, { ...oauth, clientId: 'other' }), bound);
    }
  });

  test('parts cannot run into each other', () => {
    const a = accountSecretBinding('password', { ...server, host: 'a","b', username: 'c' }, null);
    const b = accountSecretBinding('password', { ...server, host: 'a', username: 'b","c' }, null);
    assert.notEqual(a, b);
    assert.deepEqual(JSON.parse(accountSecretBinding('password', server, null)), [
      'imap',
      'imap.example.com',
      993,
      'direct',
      null,
      false,
      'alice',
    ]);
  });

  test('a delivery target password is bound to kind, address, TLS and user', () => {
    const target = {
      kind: 'smtp',
      host: 'smtp.example.com',
      port: 587,
      socketPath: null,
      tlsMode: 'detect',
      tlsCa: null,
      allowInvalidCertificates: false,
      username: 'relay',
    };
    const bound = targetPasswordBinding(target);
    for (const change of [
      { kind: 'lmtp' },
      { host: 'x' },
      { port: 25 },
      { tlsMode: 'disabled' },
      { username: 'other' },
      { tlsCa: 'pem' },
    ]) {
      assert.notEqual(targetPasswordBinding({ ...target, ...change }), bound, JSON.stringify(change));
    }
  });

  test('a change that moves a stored secret needs it again; an access token is dropped; what the request gives is not asked for', () => {
    const before = (name: AccountSecretName) => accountSecretBinding(name, server, oauth);
    const moved = (name: AccountSecretName) => accountSecretBinding(name, { ...server, port: 1993 }, oauth);
    const stored = new Set<AccountSecretName>(['oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token']);
    assert.deepEqual(rebinding(stored, new Set(), before, moved), { required: ['oauth_refresh_token'], dropped: ['oauth_access_token'] });
    assert.deepEqual(rebinding(stored, new Set(['oauth_refresh_token']), before, moved), {
      required: [],
      dropped: ['oauth_access_token'],
    });
    assert.deepEqual(rebinding(stored, new Set(), before, before), { required: [], dropped: [] });
    assert.deepEqual(rebinding(new Set(['password']), new Set(), before, moved).required, ['password']);
    assert.equal(misboundMessage('password'), 'the stored password was given for another server; enter it again');
  });
});
