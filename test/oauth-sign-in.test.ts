import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { addUser, caCertificate, logLinesFor, saveMessages, type DovecotUser } from './support/dovecot';
import { testEnv, waitFor } from './support/env';
import { buildMessage } from './support/messages';
import { OAuthProvider } from './support/oauth-provider';
import { useTestSystem } from './support/system';

const CHROMIUM = '/usr/bin/chromium';
const CLI = path.resolve(__dirname, '../cli/main.js');

/**
 * Signing in at a real authorization server (oidc-provider on loopback): the code flow with PKCE
 * in headless Chromium through the admin page, the device flow through the CLI, refresh, and a
 * revoked grant reconnected; Dovecot accepts only the tokens that server issued.
 */
describe('OAuth2 sign-in against oidc-provider, the account then collecting from Dovecot', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });
  let provider: OAuthProvider;
  let browser: Browser;
  const shots = path.join(path.dirname(testEnv.dovecotDir()), 'screenshots-oauth');

  before(async () => {
    provider = await OAuthProvider.start({ redirectUris: [`${sys.baseUrl}/oauth/callback`] });
    await rm(shots, { recursive: true, force: true });
    await mkdir(shots, { recursive: true });
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      defaultViewport: { width: 1200, height: 800 },
    });
    console.log(`oauth sign-in screenshots: ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await provider?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  /** The installation's app for this server: its client, found by the issuer's metadata. */
  const configureApp = () =>
    sys.ok('PUT', '/api/oauth/apps/custom', { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret });

  /** oidc-provider's own sign-in pages: any login name (the Dovecot user), then consent. */
  async function signInAtProvider(page: Page, login: string, name: string): Promise<void> {
    const form = await page.waitForSelector('input[name=login], button.login-submit', { timeout: 30_000 });
    if (await form?.evaluate((el) => el.getAttribute('name') === 'login')) {
      await page.type('input[name=login]', login);
      await page.type('input[name=password]', 'anything');
      await shot(page, `${name}-1-provider-login`);
      await Promise.all([page.waitForNavigation(), page.click('button.login-submit')]);
    }
    await page.waitForSelector('button.login-submit');
    await shot(page, `${name}-2-provider-consent`);
    await Promise.all([page.waitForNavigation(), page.click('button.login-submit')]);
  }

  const messagesInDovecot = async (user: DovecotUser, subjects: string[]) =>
    saveMessages(
      user,
      subjects.map((subject) => buildMessage({ subject })),
    );

  test('the code flow with PKCE from the API: consent in Chromium, the account created and collecting, the callback single use', async () => {
    await configureApp();
    const user = await addUser('si');
    await messagesInDovecot(user, ['one', 'two']);
    const owner = await sys.localAccount(`${user.name}@signin.test`);
    const started = await sys.ok('POST', '/api/oauth/sessions', {
      provider: 'custom',
      returnTo: '/#/external-accounts',
      account: {
        ownerAccountId: owner.id,
        name: 'signed in',
        protocol: 'imap',
        host: '127.0.0.1',
        port: testEnv.imapPort(),
        tlsMode: 'starttls',
        tlsCa: await caCertificate(),
        username: user.name,
      },
    });
    const consent = new URL(started.authorizationUrl);
    assert.equal(consent.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(consent.searchParams.get('code_challenge'), 'PKCE');
    assert.equal(started.redirectUri, `${sys.baseUrl}/oauth/callback`);

    const page = await browser.newPage();
    const callbacks: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(`${sys.baseUrl}/oauth/callback`)) callbacks.push(req.url());
    });
    await page.goto(started.authorizationUrl);
    await signInAtProvider(page, user.name, 'api');
    await page.waitForFunction(() => location.search.includes('oauth='));
    const landed = new URL(page.url());
    assert.equal(landed.searchParams.get('oauth'), 'done', landed.href);
    const accountId = landed.searchParams.get('account') ?? '';
    assert.equal(landed.hash, '#/external-accounts');
    await page.close();

    const view = await sys.ok('GET', `/api/oauth/sessions/${started.id}`);
    assert.deepEqual({ status: view.status, externalAccountId: view.externalAccountId }, { status: 'done', externalAccountId: accountId });
    const account = await sys.ok('GET', `/api/external-accounts/${accountId}`);
    assert.equal(account.authMethod, 'xoauth2');
    assert.deepEqual(
      { provider: account.oauth.provider, clientId: account.oauth.clientId, refreshTokenSet: account.oauth.refreshTokenSet },
      { provider: 'custom', clientId: provider.clientId, refreshTokenSet: true },
    );
    assert.equal(account.oauth.clientSecretSet, false, "the installation app's secret is used, not a copy");

    const first = await sys.waitForCycles(accountId, 1);
    assert.equal(first.lastError, null, JSON.stringify(first.lastError));
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
    assert.ok(
      (await logLinesFor(user)).some((l) => /Login: .*method=XOAUTH2/.test(l)),
      'Dovecot accepted the XOAUTH2 login',
    );

    // The same redirect again (a replay, a reload): the state is used up.
    assert.equal(callbacks.length, 1);
    const replay = await fetch(callbacks[0], { redirect: 'manual' });
    assert.equal(replay.status, 303);
    const replayed = new URL(replay.headers.get('location') ?? '', sys.baseUrl);
    assert.equal(replayed.searchParams.get('oauth'), 'failed');
    assert.match(replayed.searchParams.get('message') ?? '', /already used/);
    assert.equal((await sys.ok('GET', '/api/external-accounts')).externalAccounts.length, 1, 'no second account');

    // Refresh: the access token expired at the provider and in mailpull; the worker refreshes with the app's secret.
    provider.invalidateAccessTokens();
    await sys.db.pool.query("UPDATE external_accounts SET oauth_access_expires_at = now() - interval '1 minute' WHERE id = $1", [
      accountId,
    ]);
    const refreshes = provider.tokenRequests;
    await messagesInDovecot(user, ['three']);
    await sys.ok('POST', `/api/external-accounts/${accountId}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(accountId, 2);
    assert.equal(second.lastError, null, JSON.stringify(second.lastError));
    assert.equal((await sys.storedMessages(owner.id)).length, 3);
    assert.equal(provider.tokenRequests - refreshes, 1, 'one refresh');
    await assertNoSecrets(accountId, [view, account]);
  });

  /** No code, token or client secret in the history, the worker's or the API's log, or the answers given. */
  async function assertNoSecrets(externalId: string, answers: unknown[]): Promise<void> {
    const history = await sys.historyText(externalId);
    const workerLog = sys.worker?.output() ?? '';
    const apiLog = sys.apiLog.join('\n');
    const shown = JSON.stringify(answers);
    const secrets = [provider.clientSecret, ...provider.issued];
    assert.ok(secrets.length > 3);
    for (const secret of secrets) {
      assert.ok(!history.includes(secret), 'no secret in the workflow history');
      assert.ok(!workerLog.includes(secret), 'no secret in the worker log');
      assert.ok(!apiLog.includes(secret), 'no secret in the API log');
      assert.ok(!shown.includes(secret), 'no secret in an API answer');
    }
  }

  test('API input: a bad sign-in request is answered 400 naming the field', async () => {
    const owner = await sys.localAccount('input@signin.test');
    const cases: [unknown, string][] = [
      [{ provider: 'custom' }, 'externalAccountId'],
      [{ provider: 'custom', externalAccountId: '00000000-0000-4000-8000-000000000000' }, 'externalAccountId'],
      [{ provider: 'google', externalAccountId: '00000000-0000-4000-8000-000000000000' }, 'provider'],
      [
        {
          provider: 'custom',
          returnTo: 'https://elsewhere.example/',
          account: { ownerAccountId: owner.id, name: 'x', host: 'h.example', username: 'u' },
        },
        'returnTo',
      ],
      [
        {
          provider: 'custom',
          flow: 'loopback',
          redirectUri: 'https://elsewhere.example/cb',
          account: { ownerAccountId: owner.id, name: 'x', host: 'h.example', username: 'u' },
        },
        'redirectUri',
      ],
      [{ provider: 'custom', account: { ownerAccountId: owner.id, name: 'x', host: '10.0.0.5', username: 'u' } }, 'account.host'],
      [
        { provider: 'custom', account: { ownerAccountId: owner.id, name: 'x', host: 'h.example', username: 'u', password: 'p' } },
        'account',
      ],
      [{ provider: 'nope', externalAccountId: '00000000-0000-4000-8000-000000000000' }, 'provider'],
    ];
    for (const [body, field] of cases) {
      const res = await sys.api('POST', '/api/oauth/sessions', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw.toString()}`);
      assert.equal(res.body.field, field, `${JSON.stringify(body)}: ${res.raw.toString()}`);
    }
    const unknown = await fetch(`${sys.baseUrl}/oauth/callback?state=unknown&code=x`, { redirect: 'manual' });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /unknown/);
  });
});
