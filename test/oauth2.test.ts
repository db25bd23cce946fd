import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, logLinesFor, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { sleep, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { OAuthProvider } from './support/oauth-provider';
import { useTestSystem } from '../testkit/system';

/** Logins Dovecot saw for the user with XOAUTH2: accepted and refused. */
async function xoauth2Logins(user: DovecotUser): Promise<{ ok: number; failed: number }> {
  const lines = await logLinesFor(user);
  return {
    ok: lines.filter((l) => /-login: Info: Login: .*method=XOAUTH2/.test(l)).length,
    failed: lines.filter((l) => /-login: Info: .*auth failed/.test(l)).length,
  };
}

describe('OAuth2 (XOAUTH2) against Dovecot with an oauth2 passdb', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });
  let provider: OAuthProvider;
  before(async () => {
    provider = await OAuthProvider.start();
  });
  after(async () => {
    await provider.close();
  });

  const oauthAccount = async (protocol: 'pop3' | 'imap', user: DovecotUser, refreshToken: string) => {
    const owner = await sys.localAccount(`${user.name}@oauth.test`);
    const create = protocol === 'pop3' ? sys.pop3Account.bind(sys) : sys.imapAccount.bind(sys);
    const external = await create(owner, user, {
      password: undefined,
      authMethod: 'xoauth2',
      oauth: {
        provider: 'custom',
        tokenEndpoint: provider.tokenEndpoint,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        refreshToken,
      },
    });
    return { owner, external };
  };

  for (const protocol of ['imap', 'pop3'] as const) {
    test(`${protocol}: collects with a refreshed access token, refreshes an expired one, and once more after a refused login`, async () => {
      const user = await addUser('oa');
      await saveMessages(user, [buildMessage({ subject: 'one' }), buildMessage({ subject: 'two' })]);
      const requestsBefore = provider.tokenRequests;
      const { owner, external } = await oauthAccount(protocol, user, await provider.grant(user.name));
      assert.equal(external.passwordSet, false);
      assert.deepEqual(
        { refreshTokenSet: (external.oauth as any).refreshTokenSet, clientSecretSet: (external.oauth as any).clientSecretSet },
        { refreshTokenSet: true, clientSecretSet: true },
      );

      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastError, null, JSON.stringify(first.lastError));
      assert.equal((await sys.storedMessages(owner.id)).length, 2);
      assert.equal(provider.tokenRequests - requestsBefore, 1, 'one refresh: no access token yet');
      const logins = await xoauth2Logins(user);
      assert.ok(logins.ok >= 1, 'Dovecot logged XOAUTH2 logins');
      assert.equal(logins.failed, 0);

      // The stored token's expiry has passed (and the provider agrees): refreshed before the login.
      provider.invalidateAccessTokens();
      await sys.db.pool.query("UPDATE external_accounts SET oauth_access_expires_at = now() - interval '1 minute' WHERE id = $1", [
        external.id,
      ]);
      await saveMessages(user, [buildMessage({ subject: 'three' })]);
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      const second = await sys.waitForCycles(external.id, 2);
      assert.equal(second.lastError, null, JSON.stringify(second.lastError));
      assert.equal((await sys.storedMessages(owner.id)).length, 3);
      assert.equal(provider.tokenRequests - requestsBefore, 2);

      // The server stops accepting a token mailpull still thinks valid: refused login, one refresh, login again.
      provider.invalidateAccessTokens();
      await saveMessages(user, [buildMessage({ subject: 'four' })]);
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      const third = await sys.waitForCycles(external.id, 3);
      assert.equal(third.lastError, null, JSON.stringify(third.lastError));
      assert.equal((await sys.storedMessages(owner.id)).length, 4);
      assert.equal(provider.tokenRequests - requestsBefore, 3);
      assert.equal((await xoauth2Logins(user)).failed, 1, (await logLinesFor(user)).join('\n'));

      const view = await sys.ok('GET', `/api/external-accounts/${external.id}`);
      assert.ok(new Date(view.oauth.accessTokenExpiresAt).getTime() > Date.now() + 50 * 60_000, 'the new expiry is shown');
      await assertNoSecrets(external.id, [provider.clientSecret, ...provider.issued]);
    });
  }

  test('a revoked refresh token: "reauthorization needed", no further logins, until a new refresh token is set', async () => {
    const user = await addUser('ob');
    await saveMessages(user, [buildMessage({ subject: 'before' })]);
    const refreshToken = await provider.grant(user.name);
    const { owner, external } = await oauthAccount('imap', user, refreshToken);
    await sys.waitForCycles(external.id, 1);
    assert.equal((await sys.storedMessages(owner.id)).length, 1);

    await provider.revoke(refreshToken);
    provider.invalidateAccessTokens();
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const failed = await sys.waitForCycles(external.id, 2);
    assert.equal(failed.lastError?.kind, 'reauth');
    assert.match(failed.lastError?.message ?? '', /reauthorization needed.*invalid_grant/);
    const blocked = await waitFor('the reauthorization status', async () => {
      const s = await sys.status(external.id);
      return s.phase === 'reauthorization_needed' ? s : null;
    });
    assert.match(blocked.disabledReason ?? '', /reauthorization needed/);
    const view = await sys.ok('GET', `/api/external-accounts/${external.id}`);
    assert.match(view.reauthorizationReason, /invalid_grant/);

    const logins = (await logLinesFor(user)).length;
    const requests = provider.tokenRequests;
    await saveMessages(user, [buildMessage({ subject: 'after' })]);
    for (let i = 0; i < 3; i++) {
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      await sleep(1000);
    }
    assert.equal((await logLinesFor(user)).length, logins, 'no login attempt at Dovecot');
    assert.equal(provider.tokenRequests, requests, 'no refresh attempt at the provider');
    assert.equal((await sys.storedMessages(owner.id)).length, 1);

    const renewed = await provider.grant(user.name);
    const cycles = (await sys.status(external.id)).counts.cycles;
    const after = await sys.ok('PUT', `/api/external-accounts/${external.id}/oauth/refresh-token`, { refreshToken: renewed }, 200);
    assert.equal(after.reauthorizationReason, null);
    const resumed = await sys.waitForCycles(external.id, cycles + 1);
    assert.equal(resumed.lastError, null);
    assert.equal(resumed.phase, 'waiting');
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
    await assertNoSecrets(external.id, [refreshToken, renewed, provider.clientSecret, ...provider.issued]);
  });

  /** History, worker log (with the protocol trace on) and API log: none holds a token or the client secret. */
  async function assertNoSecrets(externalId: string, secrets: string[]): Promise<void> {
    const history = await sys.historyText(externalId);
    const workerLog = sys.worker?.output() ?? '';
    assert.match(
      workerLog,
      /trace \[.*\] C: .*AUTHENTICATE XOAUTH2|trace \[.*\] C: AUTH XOAUTH2 \*\*\*\*/,
      'the trace shows the login, masked',
    );
    for (const secret of secrets) {
      assert.ok(!history.includes(secret), 'no secret in the workflow history');
      assert.ok(!workerLog.includes(secret), 'no secret in the worker log');
      assert.ok(!sys.apiLog.join('\n').includes(secret), 'no secret in the API log');
    }
  }
});
