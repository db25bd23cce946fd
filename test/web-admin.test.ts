import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serve, type ServerType } from '@hono/node-server';
import { launch, type Browser, type Page } from 'puppeteer-core';
import { createApp } from '../api/app';
import { createWorkflowControl } from '../api/workflow-control';
import { loadKeyring } from '../secrets/keyring';
import { addUser, caCertificate, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { TestSystem } from '../testkit/system';
import { loopbackPolicy } from '../testkit/network-policy';

const CHROMIUM = '/usr/bin/chromium';
const TEMPORAL_UI = 'http://temporal-ui.test:8233';
const WRITE_ACTIONS = ['connect-now', 'enable', 'disable', 'edit', 'reset-index', 'retry', 'discard'];

/** The admin page in Debian's headless Chromium, against the real API, worker, Temporal, Postgres and Dovecot. */
describe('the web admin page', () => {
  let sys: TestSystem;
  let server: ServerType;
  let baseUrl = '';
  let browser: Browser;
  let page: Page;
  let source: DovecotUser;
  const pageErrors: string[] = [];
  const shots = path.join(path.dirname(testEnv.dovecotDir()), 'screenshots');
  const downloads = path.join(path.dirname(testEnv.dovecotDir()), 'downloads');

  // A real refusal by the store for some messages, as in the isolation test: they end in quarantine.
  const refusePoison = () =>
    sys.db.pool.query(`
      DROP TRIGGER IF EXISTS refuse_poison ON messages;
      CREATE OR REPLACE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.subject LIKE 'poison%' THEN RAISE EXCEPTION 'refusing this message (test trigger)'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();`);

  before(async () => {
    sys = await TestSystem.start();
    await refusePoison();
    // The API as main.ts makes it, with the Temporal UI configured; TestSystem's own has none.
    const app = createApp({
      pool: sys.db.pool,
      keyring: loadKeyring({ kind: 'file', path: sys.keyFile }),
      workflows: createWorkflowControl(sys.connection, 'default', sys.taskQueue),
      limits: { maxBodyBytes: 1024 * 1024, requestsPerMinute: 600 },
      networkPolicy: loopbackPolicy,
      adminUi: { temporalUiUrl: TEMPORAL_UI, temporalNamespace: 'default' },
    });
    await new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        baseUrl = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
    source = await addUser('web');
    await rm(shots, { recursive: true, force: true });
    await rm(downloads, { recursive: true, force: true });
    await mkdir(shots, { recursive: true });
    await mkdir(downloads, { recursive: true });
    browser = await launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
      defaultViewport: { width: 1360, height: 600 },
    });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('dialog', (dialog) => void dialog.accept());
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    console.log(`web admin screenshots: ${shots}`);
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await sys?.close();
  });

  const shot = async (p: Page, name: string): Promise<void> => {
    await p.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  };

  /** Waits until the element's text matches; fails with what the page shows instead. */
  const waitForText = async (p: Page, selector: string, pattern: RegExp, timeout = 30_000): Promise<void> => {
    try {
      const probe = `new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`;
      await p.waitForFunction(probe, { timeout, polling: 100 });
    } catch (err) {
      await shot(p, `failure-${Date.now()}`);
      const shown = await p.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
      throw new Error(`${selector} never matched ${pattern}: it shows "${shown}" (${(err as Error).message})`, { cause: err });
    }
  };

  const fill = async (p: Page, selector: string, value: string): Promise<void> => {
    await p.$eval(selector, (el) => ((el as unknown as { value: string }).value = ''));
    await p.type(selector, value);
  };

  /** The file a Raw button saved, once it is complete. */
  const downloaded = (name: string): Promise<Buffer> =>
    waitFor(
      `the download ${name}`,
      async () => ((await readdir(downloads)).includes(name) ? readFile(path.join(downloads, name)) : null),
      10_000,
    );

  const rowOf = (id: string) => `tr[data-id="${id}"]`;

  /** Clicks the element once it is there, visible and enabled (screens render after a hash change). */
  const click = (p: Page, selector: string): Promise<void> => p.locator(selector).click();

  test('an admin signs in, creates a domain, an account and a POP3 account, connects now and sees the mail; a quarantined message is retried and delivered', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#field-token');
    await page.type('#field-token', 'mp_0000000000000000_wrong');
    await click(page, 'button[type=submit]');
    await waitForText(page, '[data-error-for="token"]', /invalid or revoked token/);
    await shot(page, '01-sign-in-refused');
    await fill(page, '#field-token', sys.adminToken);
    await click(page, 'button[type=submit]');
    await page.waitForSelector('#top nav');
    assert.equal(await page.evaluate("sessionStorage.getItem('mailpull-token')"), sys.adminToken, 'kept for this tab');

    // a domain: the API's error stands next to the field it names
    await click(page, 'a[href="#/domains"]');
    await page.waitForSelector('#domains form');
    await page.type('#field-name', 'not a domain');
    await click(page, '#domains button[type=submit]');
    await waitForText(page, '#domains [data-error-for="name"]', /must be a domain name/);
    await shot(page, '02-domain-field-error');
    await fill(page, '#field-name', 'webadmin.test');
    await click(page, '#domains button[type=submit]');
    await waitForText(page, '#domains tbody', /webadmin\.test/);
    assert.equal(await page.$eval('#domains [data-error-for="name"]', (el) => el.textContent), '', 'the error is gone');
    await page.type('#field-address', 'alice@webadmin.test');
    await click(page, '#accounts button[type=submit]');
    await waitForText(page, '#accounts tbody', /alice@webadmin\.test/);
    await shot(page, '03-domains-and-accounts');
    const alice = (await sys.ok('GET', '/api/accounts')).accounts.find((a: { address: string }) => a.address === 'alice@webadmin.test');
    assert.ok(alice, 'created through the API');

    // the external account, first with a port the API refuses
    await click(page, 'a[href="#/"]');
    await click(page, 'a[href="#/external/new"]');
    await page.waitForSelector('#field-host');
    await page.type('#field-name', 'ISP mailbox');
    await page.select('#field-ownerAccountId', alice.id);
    await page.type('#field-host', '127.0.0.1');
    await page.type('#field-port', '99999');
    await page.$eval('#field-tlsCa', (el, ca) => ((el as unknown as { value: string }).value = ca), await caCertificate());
    await page.type('#field-username', source.name);
    await page.type('#field-password', source.password);
    await click(page, 'button[type=submit]');
    await waitForText(page, '[data-error-for="port"]', /65535/);
    assert.equal(await page.$eval('[data-error-for="host"]', (el) => el.textContent), '', 'only the named field shows an error');
    await shot(page, '04-external-account-field-error');
    await fill(page, '#field-port', String(testEnv.pop3Port()));
    await click(page, 'button[type=submit]');
    await page.waitForSelector('table.accounts');
    const external = (await sys.ok('GET', '/api/external-accounts')).externalAccounts.find(
      (e: { name: string }) => e.name === 'ISP mailbox',
    );
    assert.ok(external);
    assert.equal(external.port, testEnv.pop3Port());
    const row = rowOf(external.id);
    await waitForText(page, row, /nothing new/, 60_000);
    assert.equal(
      await page.$eval(`${row} a.temporal`, (a) => a.getAttribute('href')),
      `${TEMPORAL_UI}/namespaces/default/workflows/external-account%3A${external.id}`,
    );

    // two more accounts through the API, so the overview shows a failure and a disabled account too
    const other = await addUser('web');
    const failing = await sys.pop3Account(alice, { ...other, password: 'wrong' }, { name: 'Old ISP' });
    const paused = await sys.imapAccount(alice, other, { name: 'Work IMAP', enabled: false });
    await waitForText(page, rowOf(failing.id), /auth: /, 60_000);
    await waitForText(page, rowOf(paused.id), /disabled/);

    // new mail, stored slowly enough that the cycle's progress shows
    const hellos = Array.from({ length: 20 }, (_, i) => buildMessage({ subject: `hello ${i + 1}`, body: textOfSize(2_000) }));
    const poison = [buildMessage({ subject: 'poison 1' }), buildMessage({ subject: 'poison 2' })];
    await saveMessages(source, [...hellos.slice(0, 10), poison[0], ...hellos.slice(10), poison[1]]);
    await sys.db.pool.query(`
      CREATE FUNCTION slow_store() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.subject LIKE 'hello%' THEN PERFORM pg_sleep(0.3); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER slow_store BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION slow_store();`);
    await click(page, `${row} button[data-action="connect-now"]`);
    await page.waitForSelector(`${row} progress`, { timeout: 60_000 }).catch(async (err: unknown) => {
      await shot(page, `failure-${Date.now()}`);
      throw err;
    });
    await shot(page, '05-cycle-in-progress');
    await waitForText(page, row, /20 delivered/, 90_000);
    await sys.db.pool.query('DROP TRIGGER slow_store ON messages');
    await waitForText(page, `${row} a[href="#/quarantine/${external.id}"]`, /^2 quarantined$/);
    await shot(page, '06-external-accounts');

    // the messages of the owner
    await click(page, `${row} a[href="#/accounts/${alice.id}"]`);
    await waitForText(page, 'main .count', /^20 message\(s\)/);
    await waitForText(page, 'main tbody', /hello 20/);
    await shot(page, '07-messages');
    const firstRow = await page.$eval('main tbody tr', (tr) => tr.getAttribute('data-id'));
    await click(page, 'main tbody tr button[data-action="raw"]');
    const raw = await downloaded(`message-${firstRow}.eml`);
    assert.ok(
      hellos.some((m) => m.equals(raw)),
      'the raw download is the message byte for byte',
    );

    // the quarantine: raw download, discard one, retry the other after the cause is gone
    await click(page, 'a[href="#/quarantine"]');
    await waitForText(page, 'main .count', /^2 message\(s\)/);
    await waitForText(page, 'main tbody', /refusing this message \(test trigger\)/);
    await shot(page, '08-quarantine');
    // what could not be processed is kept without a parsed summary: the raw bytes tell them apart
    const held = (await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`)).messages as { id: string }[];
    const raws = await Promise.all(held.map(async (m) => (await sys.api('GET', `/api/quarantine/${m.id}/raw`)).raw));
    const first = held[raws.findIndex((r) => r.equals(poison[0]))];
    const second = held[raws.findIndex((r) => r.equals(poison[1]))];
    assert.ok(first && second);
    await click(page, `${rowOf(first.id)} button[data-action="raw"]`);
    assert.ok((await downloaded(`quarantined-${first.id}.eml`)).equals(poison[0]), 'the quarantined message byte for byte');
    await click(page, `${rowOf(second.id)} button[data-action="discard"]`);
    await waitForText(page, 'main .count', /^1 message\(s\)/);
    assert.equal((await sys.api('GET', `/api/quarantine/${second.id}`)).status, 404, 'discarded for good');
    await sys.db.pool.query('DROP TRIGGER refuse_poison ON messages');
    await click(page, `${rowOf(first.id)} button[data-action="retry"]`);
    await waitForText(page, 'main .count', /^0 message\(s\)/);
    await click(page, `a[href="#/domains"]`);
    await click(page, `#accounts a[href="#/accounts/${alice.id}"]`);
    await waitForText(page, 'main .count', /^21 message\(s\)/, 60_000);
    await shot(page, '09-retried-message-delivered');
    // kept without a summary (what could not be processed may be its headers): the bytes tell
    const retried = await page.$eval('main tbody tr', (tr) => [tr.getAttribute('data-id'), tr.textContent]);
    assert.match(retried[1] ?? '', /\(no subject\)/, 'the newest message is the retried one');
    await click(page, `${rowOf(retried[0] ?? '')} button[data-action="raw"]`);
    assert.ok((await downloaded(`message-${retried[0]}.eml`)).equals(poison[0]), 'the retried message, delivered byte for byte');

    // reset index, disable and enable, edit
    await click(page, 'a[href="#/"]');
    await click(page, `${row} button[data-action="reset-index"]`);
    await waitForText(page, '#flash', /ISP mailbox: index reset, \d+ message\(s\) forgotten/);
    await click(page, `${row} button[data-action="disable"]`);
    await page.waitForSelector(`${row} button[data-action="enable"]`);
    assert.equal((await sys.ok('GET', `/api/external-accounts/${external.id}`)).enabled, false);
    await click(page, `${row} button[data-action="enable"]`);
    await page.waitForSelector(`${row} button[data-action="disable"]`);
    assert.equal((await sys.ok('GET', `/api/external-accounts/${external.id}`)).enabled, true);
    await click(page, `${row} a[data-action="edit"]`);
    await page.waitForFunction("document.querySelector('#field-name')?.value === 'ISP mailbox'");
    assert.equal(await page.$eval('#field-port', (el) => (el as unknown as { value: string }).value), String(testEnv.pop3Port()));
    // another server without the password: the page asks for it, and nothing changes
    await fill(page, '#field-host', 'localhost');
    await click(page, 'button[type=submit]');
    await waitForText(page, '[data-error-for="password"]', /must be given again/);
    assert.equal((await sys.ok('GET', `/api/external-accounts/${external.id}`)).host, '127.0.0.1');
    await fill(page, '#field-host', '127.0.0.1');
    await fill(page, '#field-intervalMinutes', '15');
    await click(page, 'button[type=submit]');
    await page.waitForSelector('table.accounts');
    const edited = await sys.ok('GET', `/api/external-accounts/${external.id}`);
    assert.equal(edited.intervalMinutes, 15);
    const audit = (await sys.ok('GET', '/api/audit')).entries as { action: string; fields: string[] }[];
    assert.deepEqual(
      audit.find((e) => e.action === 'PATCH /api/external-accounts/:id')?.fields,
      ['intervalMinutes'],
      'the edit sent only what changed',
    );
    assert.ok(audit.some((e) => e.action === 'POST /api/external-accounts/:id/reset-index'));
    assert.deepEqual(pageErrors, []);
  });

  test('a read-only token sees the same data and no write control, and no message body', async () => {
    // one more quarantined message, so the quarantine has a row whose buttons are checked
    await refusePoison();
    const poison = buildMessage({ subject: 'poison 3' });
    await saveMessages(source, [poison]);
    const external = (await sys.ok('GET', '/api/external-accounts')).externalAccounts.find(
      (e: { name: string }) => e.name === 'ISP mailbox',
    );
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    // (the reset index above makes the discarded message new again: it may be quarantined anew)
    const quarantined = await waitFor(
      'the new message in quarantine and the account idle',
      async () => {
        const status = await sys.status(external.id);
        if (status.phase !== 'waiting' || status.rerunQueued) return null;
        const { total, messages } = await sys.ok('GET', '/api/quarantine');
        const raws = await Promise.all(
          messages.map(async (m: { id: string }) => (await sys.api('GET', `/api/quarantine/${m.id}/raw`)).raw),
        );
        return raws.some((raw) => raw.equals(poison)) && (total as number);
      },
      60_000,
      250,
    );

    const context = await browser.createBrowserContext();
    try {
      const reader = await context.newPage();
      reader.on('pageerror', (err) => pageErrors.push(String(err)));
      // TestSystem's API: no Temporal UI configured
      await reader.goto(`${sys.baseUrl}/`);
      await reader.waitForSelector('#field-token');
      await reader.type('#field-token', await sys.createToken('read', 'web reader'));
      await click(reader, 'button[type=submit]');
      await waitForText(reader, '#top', /read-only/);
      await waitForText(reader, rowOf(external.id), /ISP mailbox/);
      await waitForText(reader, rowOf(external.id), /waiting/);
      await shot(reader, '10-read-only');
      const writeControls = (p: Page) =>
        p.$$eval(
          'button, a.button, form',
          (els, writes) =>
            els
              .filter(
                (el) =>
                  el.tagName === 'FORM' || writes.includes(el.getAttribute('data-action') ?? '') || /^New /.test(el.textContent ?? ''),
              )
              .map((el) => el.outerHTML.slice(0, 80)),
          WRITE_ACTIONS,
        );
      assert.deepEqual(await writeControls(reader), [], 'no write control on the external accounts');
      assert.equal(await reader.$('a.temporal'), null, 'no Temporal link when its UI is not configured');

      await click(reader, 'a[href="#/domains"]');
      await waitForText(reader, '#accounts tbody', /alice@webadmin\.test/);
      assert.deepEqual(await writeControls(reader), [], 'none on domains and accounts');

      await click(reader, 'a[href="#/quarantine"]');
      await waitForText(reader, 'main .count', new RegExp(`^${quarantined} message\\(s\\)`));
      assert.equal(await reader.$('main tbody button[data-action="raw"]'), null, 'message bodies need the messages:read scope');
      assert.deepEqual(await writeControls(reader), [], 'none in the quarantine');
      await shot(reader, '11-read-only-quarantine');
    } finally {
      await context.close();
    }
    assert.deepEqual(pageErrors, []);
  });
});
