// test-file-timeout-ms: 600000
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { addUser, caCertificate, logLinesFor, mailboxCount, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { unusedPort } from '../testkit/ports';
import { useTestSystem } from '../testkit/system';
import { domainWithTarget } from './support/delivered';
import { withImap } from './support/imap';
import { OAuthProvider } from './support/oauth-provider';

const CHROMIUM = '/usr/bin/chromium';
const CLI = path.resolve(__dirname, '../cli/main.js');
const runFile = promisify(execFile);

/** A CLI run in the background: what it wrote so far, and how it ended. */
interface CliRun {
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number>;
}

/**
 * Signing in at a real authorization server (oidc-provider on loopback): the code flow with PKCE
 * in headless Chromium through the admin page, the device flow and the loopback redirect through
 * the CLI, refresh, and a revoked grant reconnected; Dovecot accepts only the tokens that server
 * issued (its oauth2 passdb introspects them).
 */
describe('OAuth2 sign-in against oidc-provider, the account then collecting from Dovecot', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });
  let provider: OAuthProvider;
  let browser: Browser;
  let loopbackPort = 0;
  /** the CLI runs of the tests: stopped at the end, whatever became of them */
  const children: ChildProcess[] = [];
  const pageErrors: string[] = [];
  const shots = path.join(path.dirname(testEnv.dovecotDir()), 'screenshots-oauth');

  before(async () => {
    loopbackPort = await unusedPort();
    provider = await OAuthProvider.start({
      redirectUris: [`${sys.baseUrl}/oauth/callback`, `http://127.0.0.1:${loopbackPort}/oauth/callback`],
    });
    await rm(shots, { recursive: true, force: true });
    await mkdir(shots, { recursive: true });
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      defaultViewport: { width: 1200, height: 800 },
    });
    console.log(`oauth sign-in screenshots: ${shots}`);
    // the installation's app for this server: its endpoints come from the issuer's metadata
    await sys.ok(
      'PUT',
      '/api/oauth/apps/custom',
      { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret },
      200,
    );
  });
  after(async () => {
    for (const child of children) child.kill();
    await browser?.close();
    await provider?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  /** A page in a browser context of its own: no provider session from another test's user. */
  const newPage = async (): Promise<Page> => {
    const page = await (await browser.createBrowserContext()).newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    return page;
  };

  /** Waits until the element's text matches; fails with what the page shows instead. */
  const waitForText = async (page: Page, selector: string, pattern: RegExp, timeout = 60_000): Promise<void> => {
    try {
      const probe = `new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`;
      await page.waitForFunction(probe, { timeout, polling: 200 });
    } catch (err) {
      await shot(page, `failure-${Date.now()}`);
      const shown = await page.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
      throw new Error(`${selector} never matched ${pattern}: it shows "${shown}" (${(err as Error).message})`, { cause: err });
    }
  };

  const fill = async (page: Page, selector: string, value: string): Promise<void> => {
    await page.$eval(selector, (el) => ((el as unknown as { value: string }).value = ''));
    await page.type(selector, value);
  };

  /**
   * oidc-provider's own sign-in pages: any login name (the Dovecot user), then consent. Signed
   * in there already (the same browser context, the same user), only the consent is asked.
   */
  async function signInAtProvider(page: Page, login: string, name: string): Promise<void> {
    const first = await page.waitForSelector('input[name=login], button.login-submit', { timeout: 30_000 });
    if (await first?.evaluate((el) => el.getAttribute('name') === 'login')) {
      await page.type('input[name=login]', login);
      await page.type('input[name=password]', 'anything');
      await shot(page, `${name}-provider-login`);
      await Promise.all([page.waitForNavigation(), page.click('button.login-submit')]);
    }
    await page.waitForSelector('button.login-submit');
    await shot(page, `${name}-provider-consent`);
    await Promise.all([page.waitForNavigation(), page.click('button.login-submit')]);
  }

  /** The admin page, signed in with the admin token (kept for the tab, as after the token form). */
  async function adminPage(): Promise<Page> {
    const page = await newPage();
    await page.goto(`${sys.baseUrl}/`);
    await page.waitForSelector('#field-token');
    await page.type('#field-token', sys.adminToken);
    await page.locator('button[type=submit]').click();
    await page.waitForSelector('#top nav');
    return page;
  }

  /** Runs the built CLI against the test API in the background. */
  const cli = (args: string[]): CliRun => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, MAILPULL_API_URL: sys.baseUrl, MAILPULL_API_TOKEN: sys.adminToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    return {
      stdout: () => out,
      stderr: () => err,
      exit: new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1))),
    };
  };

  /** The new account's options for a Dovecot user, over STARTTLS with the test CA. */
  const accountOptions = (user: DovecotUser, owner: string, name: string): string[] => [
    ...['--owner', owner, '--name', name, '--protocol', 'imap', '--host', '127.0.0.1'],
    ...['--port', String(testEnv.imapPort()), '--tls', 'starttls', '--tls-ca-file', path.join(testEnv.dovecotDir(), 'tls', 'ca.pem')],
    ...['--username', user.name],
  ];

  const xoauth2Logins = async (user: DovecotUser): Promise<number> =>
    (await logLinesFor(user)).filter((l) => /-login: Info: Login: .*method=XOAUTH2/.test(l)).length;

  /** The account signed in collects with the provider's token: messages stored, Dovecot saw XOAUTH2. */
  async function assertCollects(accountId: string, ownerId: string, user: DovecotUser, count: number): Promise<void> {
    const account = await sys.ok('GET', `/api/external-accounts/${accountId}`);
    assert.equal(account.authMethod, 'xoauth2');
    assert.deepEqual(
      { provider: account.oauth.provider, clientId: account.oauth.clientId, refreshTokenSet: account.oauth.refreshTokenSet },
      { provider: 'custom', clientId: provider.clientId, refreshTokenSet: true },
    );
    assert.equal(account.oauth.clientSecretSet, false, "the installation app's secret is used, not a copy");
    const first = await sys.waitForCycles(accountId, 1);
    assert.equal(first.lastError, null, JSON.stringify(first.lastError));
    assert.equal((await sys.storedMessages(ownerId)).length, count);
    assert.ok((await xoauth2Logins(user)) >= 1, 'Dovecot accepted the XOAUTH2 login');
  }

  /** No code, token or client secret in the history, the worker's or the API's log, or the texts given. */
  async function assertNoSecrets(externalId: string, shown: unknown[]): Promise<void> {
    const history = await sys.historyText(externalId);
    const workerLog = sys.worker?.output() ?? '';
    const apiLog = sys.apiLog.join('\n');
    const texts = JSON.stringify(shown);
    const secrets = [provider.clientSecret, ...provider.issued];
    assert.ok(secrets.length > 3);
    for (const secret of secrets) {
      assert.ok(!history.includes(secret), 'no secret in the workflow history');
      assert.ok(!workerLog.includes(secret), 'no secret in the worker log');
      assert.ok(!apiLog.includes(secret), 'no secret in the API log');
      assert.ok(!texts.includes(secret), 'no secret in an answer or output');
    }
  }

  test('CLI, device authorization (RFC 8628): the code entered at the provider in a browser, the account created and collecting', async () => {
    const user = await addUser('dev');
    await saveMessages(user, [buildMessage({ subject: 'one' }), buildMessage({ subject: 'two' })]);
    const owner = await sys.localAccount(`${user.name}@signin.test`);
    const run = cli([
      'external-accounts',
      'sign-in',
      '--provider',
      'custom',
      ...accountOptions(user, owner.address, 'by device'),
      '--json',
    ]);

    const shown = await waitFor('the CLI to show the code', () => Promise.resolve(/enter the code (\S+)/.exec(run.stderr())), 60_000);
    const complete = /\(or open (\S+)\)/.exec(run.stderr())?.[1];
    assert.ok(complete, run.stderr());
    assert.equal(new URL(complete).searchParams.get('user_code'), shown[1]);
    assert.match(run.stderr(), new RegExp(`open ${provider.issuer}/device `));

    const page = await newPage();
    await page.goto(complete);
    await page.waitForSelector('button[autofocus]');
    await shot(page, 'cli-device-confirm');
    await Promise.all([page.waitForNavigation(), page.click('button[autofocus]')]);
    await signInAtProvider(page, user.name, 'cli-device');
    await waitForText(page, 'h1', /Sign-in Success/);
    await shot(page, 'cli-device-success');
    await page.browserContext().close();

    assert.equal(await run.exit, 0, run.stderr());
    const view = JSON.parse(run.stdout());
    assert.equal(view.status, 'done');
    assert.equal(view.flow, 'device');
    await assertCollects(view.externalAccountId, owner.id, user, 2);
    await assertNoSecrets(view.externalAccountId, [run.stdout(), run.stderr()]);
  });

  test('CLI, loopback redirect: the printed URL opened in a browser, the provider redirects to the CLI, the account collects', async () => {
    const user = await addUser('loop');
    await saveMessages(user, [buildMessage({ subject: 'one' })]);
    const owner = await sys.localAccount(`${user.name}@signin.test`);
    const run = cli([
      'external-accounts',
      'sign-in',
      '--provider',
      'custom',
      '--loopback',
      '--loopback-port',
      String(loopbackPort),
      ...accountOptions(user, owner.address, 'by loopback'),
    ]);
    const url = await waitFor('the CLI to print the URL', () => Promise.resolve(/^(http\S+\/auth\?\S+)$/m.exec(run.stderr())?.[1]), 60_000);
    const consent = new URL(url);
    assert.equal(consent.searchParams.get('redirect_uri'), `http://127.0.0.1:${loopbackPort}/oauth/callback`);
    assert.equal(consent.searchParams.get('code_challenge_method'), 'S256');

    const page = await newPage();
    await page.goto(url);
    await signInAtProvider(page, user.name, 'cli-loopback');
    await waitForText(page, 'body', /signed in; you may close this window/);
    await page.browserContext().close();

    assert.equal(await run.exit, 0, run.stderr());
    const accountId = /external account (\S+) collects/.exec(run.stdout())?.[1] ?? '';
    await assertCollects(accountId, owner.id, user, 1);
  });

  test('admin page: Sign in on the external-account form, consent at the provider, back on the page; the account collects and refreshes; the callback is single use', async () => {
    const user = await addUser('web');
    await saveMessages(user, [buildMessage({ subject: 'one' }), buildMessage({ subject: 'two' })]);
    const owner = await sys.localAccount(`${user.name}@signin.test`);
    const page = await adminPage();
    const callbacks: string[] = [];
    const authorizations: string[] = [];
    page.on('request', (req) => {
      if (req.url().startsWith(`${sys.baseUrl}/oauth/callback`)) callbacks.push(req.url());
      if (req.url().startsWith(`${provider.issuer}/auth?`)) authorizations.push(req.url());
    });

    await page.locator('a[href="#/external/new"]').click();
    await page.waitForSelector('#field-preset option[value=gmail]');
    // only the configured app is offered: no Google or Microsoft app in this installation
    await page.waitForSelector('button[data-action="sign-in-custom"]');
    assert.equal(await page.$('button[data-action="sign-in-google"]'), null);
    assert.equal(await page.$('button[data-action="sign-in-microsoft"]'), null);
    // the preset fills the server: Gmail's IMAP host and TLS, and what the admin must know
    await page.select('#field-preset', 'gmail');
    assert.equal(await page.$eval('#field-host', (el) => (el as unknown as { value: string }).value), 'imap.gmail.com');
    assert.equal(await page.$eval('#field-port', (el) => (el as unknown as { value: string }).value), '993');
    // no Google app here: the note says so and names the redirect URL to register
    await waitForText(page, '.preset-note', new RegExp(`No Google OAuth app .*${sys.baseUrl}/oauth/callback`));
    await shot(page, 'web-1-preset-gmail');
    await page.select('#field-preset', '');

    await page.select('#field-ownerAccountId', owner.id);
    await page.type('#field-name', 'signed in');
    await page.select('#field-protocol', 'imap');
    await fill(page, '#field-host', '127.0.0.1');
    await fill(page, '#field-port', String(testEnv.imapPort()));
    await page.select('#field-tlsMode', 'starttls');
    await page.$eval('#field-tlsCa', (el, ca) => ((el as unknown as { value: string }).value = ca), await caCertificate());
    await page.type('#field-username', user.name);
    await shot(page, 'web-2-form');
    await Promise.all([page.waitForNavigation(), page.locator('button[data-action="sign-in-custom"]').click()]);
    assert.equal(authorizations.length, 1, 'the page went to the authorization endpoint');
    const consent = new URL(authorizations[0]);
    assert.equal(consent.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(consent.searchParams.get('code_challenge'), 'PKCE');
    assert.equal(consent.searchParams.get('redirect_uri'), `${sys.baseUrl}/oauth/callback`);

    await signInAtProvider(page, user.name, 'web-3');
    await waitForText(page, '#flash', /Signed in at the provider/);
    assert.equal(new URL(page.url()).search, '', 'the outcome is taken out of the address');
    await page.waitForSelector('tr[data-id] td');
    await shot(page, 'web-4-back-signed-in');

    const { externalAccounts } = await sys.ok('GET', '/api/external-accounts');
    assert.equal(externalAccounts.length, 3, 'two from the CLI tests, one from here');
    const account = externalAccounts.find((a: { name: string }) => a.name === 'signed in');
    await assertCollects(account.id, owner.id, user, 2);
    await waitForText(page, `tr[data-id="${account.id}"]`, /waiting/);
    await shot(page, 'web-5-collecting');

    // The same redirect again (a replay, a reload): the state is used up.
    assert.equal(callbacks.length, 1);
    const replay = await fetch(callbacks[0], { redirect: 'manual' });
    assert.equal(replay.status, 303);
    const replayed = new URL(replay.headers.get('location') ?? '', sys.baseUrl);
    assert.equal(replayed.searchParams.get('oauth'), 'failed');
    assert.match(replayed.searchParams.get('message') ?? '', /already used/);
    assert.equal((await sys.ok('GET', '/api/external-accounts')).externalAccounts.length, 3, 'no further account');

    // Refresh: the access token expired at the provider and in mailpull; the worker refreshes with the app's secret.
    provider.invalidateAccessTokens();
    await sys.db.pool.query("UPDATE external_accounts SET oauth_access_expires_at = now() - interval '1 minute' WHERE id = $1", [
      account.id,
    ]);
    const refreshes = provider.tokenRequests;
    await saveMessages(user, [buildMessage({ subject: 'three' })]);
    await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(account.id, 2);
    assert.equal(second.lastError, null, JSON.stringify(second.lastError));
    assert.equal((await sys.storedMessages(owner.id)).length, 3);
    assert.equal(provider.tokenRequests - refreshes, 1, 'one refresh');
    await page.browserContext().close();
    await assertNoSecrets(account.id, [account]);
    assert.deepEqual(pageErrors, []);
  });

  test('admin page: a revoked grant (invalid_grant) shows reauthorization needed; Reconnect signs in again and collection resumes', async () => {
    const user = await addUser('rec');
    await saveMessages(user, [buildMessage({ subject: 'before' })]);
    const owner = await sys.localAccount(`${user.name}@signin.test`);
    const started = await sys.ok('POST', '/api/oauth/sessions', {
      provider: 'custom',
      returnTo: '/#/',
      account: {
        ownerAccountId: owner.id,
        name: 'to reconnect',
        protocol: 'imap',
        host: '127.0.0.1',
        port: testEnv.imapPort(),
        tlsMode: 'starttls',
        tlsCa: await caCertificate(),
        username: user.name,
      },
    });
    const page = await adminPage();
    await page.goto(started.authorizationUrl);
    await signInAtProvider(page, user.name, 'reconnect-first');
    await waitForText(page, '#flash', /Signed in at the provider/);
    const { externalAccountId } = await sys.ok('GET', `/api/oauth/sessions/${started.id}`);
    await assertCollects(externalAccountId, owner.id, user, 1);
    const row = `tr[data-id="${externalAccountId}"]`;
    assert.equal(await page.$(`${row} button[data-action="reconnect"]`), null, 'no Reconnect while the grant works');

    await provider.revokeUser(user.name);
    provider.invalidateAccessTokens();
    await sys.ok('POST', `/api/external-accounts/${externalAccountId}/connect-now`, undefined, 202);
    await waitFor('reauthorization needed', async () => {
      const s = await sys.status(externalAccountId);
      return s.phase === 'reauthorization_needed' ? s : null;
    });
    await waitForText(page, row, /reauthorization/);
    await page.waitForSelector(`${row} button[data-action="reconnect"]`);
    await shot(page, 'reconnect-1-needed');

    await saveMessages(user, [buildMessage({ subject: 'after' })]);
    const cycles = (await sys.status(externalAccountId)).counts.cycles;
    await Promise.all([page.waitForNavigation(), page.locator(`${row} button[data-action="reconnect"]`).click()]);
    assert.equal(new URL(page.url()).origin, provider.issuer);
    await signInAtProvider(page, user.name, 'reconnect-2');
    await waitForText(page, '#flash', /Signed in at the provider/);
    const resumed = await sys.waitForCycles(externalAccountId, cycles + 1);
    assert.equal(resumed.lastError, null, JSON.stringify(resumed.lastError));
    assert.equal(resumed.phase, 'waiting');
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
    assert.equal((await sys.ok('GET', `/api/external-accounts/${externalAccountId}`)).reauthorizationReason, null);
    await waitForText(page, row, /waiting/);
    await page.waitForFunction(`!document.querySelector(${JSON.stringify(`${row} button[data-action="reconnect"]`)})`);
    await shot(page, 'reconnect-3-resumed');
    assert.equal((await sys.ok('GET', '/api/external-accounts')).externalAccounts.filter((a: any) => a.name === 'to reconnect').length, 1);
    await page.browserContext().close();
    assert.deepEqual(pageErrors, []);
  });

  /** A local account, the IMAP target (imapLogin "oauth") of its domain, an ISP mailbox and its own mailbox that takes only OAuth2. */
  async function linkSetup(domain: string) {
    const isp = await addUser('isp');
    await saveMessages(isp, [buildMessage({ subject: 'from the ISP one' }), buildMessage({ subject: 'from the ISP two' })]);
    // the mailbox's password is refused: only an access token the provider issued logs in
    const mailbox = await addUser('gm', 'nologin=y reason=OAuth2_only');
    await assert.rejects(
      withImap(mailbox, () => Promise.resolve()),
      'a password login is refused',
    );
    const { targetId } = await domainWithTarget(sys, domain, {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'oauth',
    });
    const owner = await sys.ok<{ id: string; address: string }>('POST', '/api/accounts', { address: `alice@${domain}` });
    return { isp, mailbox, targetId, owner };
  }

  /** The ISP mailbox collected: every message delivered by APPEND into the linked mailbox, Dovecot saw XOAUTH2. */
  async function assertDeliveredInto(owner: { id: string }, isp: DovecotUser, mailbox: DovecotUser): Promise<string> {
    const external = await sys.imapAccount(owner, isp);
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    assert.equal(status.delivery.backlog, 0, JSON.stringify(status.delivery));
    assert.equal(await mailboxCount(mailbox), 2, 'both in the linked mailbox');
    assert.ok((await xoauth2Logins(mailbox)) >= 1, 'Dovecot accepted the XOAUTH2 login');
    return external.id;
  }

  test('admin page: a local account links its own mailbox (sign-in at the provider); its ISP mail is delivered there by APPEND with XOAUTH2', async () => {
    const { isp, mailbox, targetId, owner } = await linkSetup('link-web.test');
    const page = await adminPage();
    await page.goto(`${sys.baseUrl}/#/accounts/${owner.id}`);
    await waitForText(page, '#mailbox-link', /No mailbox at a provider is linked/);
    await page.select('#field-deliveryTargetId', targetId);
    await page.type('#field-username', mailbox.name);
    await shot(page, 'link-1-account');
    await Promise.all([page.waitForNavigation(), page.locator('button[data-action="link-mailbox-custom"]').click()]);
    assert.equal(new URL(page.url()).origin, provider.issuer);
    await signInAtProvider(page, mailbox.name, 'link-2');
    await waitForText(page, '#flash', /delivered into that mailbox/);
    assert.equal(new URL(page.url()).hash, `#/accounts/${owner.id}`, 'back on the account');
    await waitForText(page, '#mailbox-link .linked-login', new RegExp(`Delivered into ${mailbox.name} \\(custom\\).*linked`));
    await shot(page, 'link-3-linked');

    const login = await sys.ok('GET', `/api/accounts/${owner.id}/append-login`);
    assert.deepEqual(
      [login.deliveryTargetId, login.username, login.oauth.provider, login.oauth.clientId, login.oauth.refreshTokenSet],
      [targetId, mailbox.name, 'custom', provider.clientId, true],
    );
    assert.equal(login.oauth.clientSecretSet, false, "the installation app's secret is used, not a copy");
    const externalId = await assertDeliveredInto(owner, isp, mailbox);
    await page.browserContext().close();
    await assertNoSecrets(externalId, [login]);
    assert.deepEqual(pageErrors, []);
  });

  test("CLI, device authorization: accounts link-mailbox links the account's own mailbox; its ISP mail is delivered there", async () => {
    const { isp, mailbox, owner } = await linkSetup('link-cli.test');
    const run = cli([
      ...['accounts', 'link-mailbox', owner.address, '--provider', 'custom'],
      ...['--target', 'link-cli.test target', '--username', mailbox.name, '--json'],
    ]);
    const complete = await waitFor('the CLI to show the code', () => Promise.resolve(/\(or open (\S+)\)/.exec(run.stderr())?.[1]), 60_000);
    const page = await newPage();
    await page.goto(complete);
    await page.waitForSelector('button[autofocus]');
    await Promise.all([page.waitForNavigation(), page.click('button[autofocus]')]);
    await signInAtProvider(page, mailbox.name, 'link-cli');
    await waitForText(page, 'h1', /Sign-in Success/);
    await page.browserContext().close();

    assert.equal(await run.exit, 0, run.stderr());
    const view = JSON.parse(run.stdout());
    assert.deepEqual([view.status, view.flow, view.localAccountId, view.externalAccountId], ['done', 'device', owner.id, null]);
    assert.equal((await sys.ok('GET', `/api/accounts/${owner.id}/append-login`)).username, mailbox.name);
    const externalId = await assertDeliveredInto(owner, isp, mailbox);
    await assertNoSecrets(externalId, [run.stdout(), run.stderr()]);
  });

  test("API input: a sign-in for a local account's mailbox needs an oauth IMAP target and a user, within the token's domains", async () => {
    const { targetId, owner } = await linkSetup('link-input.test');
    const { targetId: lmtpTarget } = await domainWithTarget(sys, 'link-lmtp.test', { kind: 'lmtp', host: '127.0.0.1', port: 24 });
    const { targetId: userTarget } = await domainWithTarget(sys, 'link-user.test', {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'user',
      username: 'someone',
      password: 'pw',
    });
    const good = { provider: 'custom', returnTo: '/#/', localAccountId: owner.id, deliveryTargetId: targetId, username: 'a@gmail.test' };
    const noTarget = { ...good, deliveryTargetId: undefined };
    const noUser = { ...good, username: undefined };
    const cases: [unknown, string][] = [
      [{ ...good, deliveryTargetId: lmtpTarget }, 'deliveryTargetId'],
      [{ ...good, deliveryTargetId: userTarget }, 'deliveryTargetId'],
      [{ ...good, deliveryTargetId: '00000000-0000-4000-8000-000000000000' }, 'deliveryTargetId'],
      [noTarget, 'deliveryTargetId'],
      [noUser, 'username'],
      [{ ...good, username: 'a b\r\nc' }, 'username'],
      [{ ...good, localAccountId: '00000000-0000-4000-8000-000000000000' }, 'localAccountId'],
      [{ provider: 'custom', returnTo: '/#/', externalAccountId: '00000000-0000-4000-8000-000000000000', username: 'x' }, 'username'],
    ];
    for (const [body, field] of cases) {
      const res = await sys.api('POST', '/api/oauth/sessions', body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.raw.toString()}`);
      assert.equal(res.body.field, field, `${JSON.stringify(body)}: ${res.raw.toString()}`);
    }
    const started = await sys.api('POST', '/api/oauth/sessions', good);
    assert.equal(started.status, 201, started.raw.toString());
    assert.equal((await sys.ok('GET', `/api/oauth/sessions/${started.body.id}`)).localAccountId, owner.id);

    // a token limited to another domain sees neither this account nor this target
    await sys.ok('POST', '/api/domains', { name: 'link-other.test' });
    const limited = (
      await runFile(process.execPath, [CLI, 'tokens', 'create', '--name', 'other domain', '--domain', 'link-other.test'], {
        env: { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile },
      })
    ).stdout.trim();
    const outside = await sys.api('POST', '/api/oauth/sessions', good, limited);
    assert.equal(outside.status, 400, outside.raw.toString());
    assert.equal(outside.body.field, 'localAccountId');
    const mine = await sys.api<{ id: string }>('POST', '/api/accounts', { address: 'bob@link-other.test' }, limited);
    assert.equal(mine.status, 201, mine.raw.toString());
    const otherTarget = await sys.api('POST', '/api/oauth/sessions', { ...good, localAccountId: mine.body.id }, limited);
    assert.equal(otherTarget.status, 400, otherTarget.raw.toString());
    assert.equal(otherTarget.body.field, 'deliveryTargetId');
  });

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
