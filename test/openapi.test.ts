import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import type { z } from 'zod';
import { createApp } from '../api/app';
import type { ApiDeps } from '../api/deps';
import { DOCS_PATH } from '../api/docs-routes';
import { requestFingerprint } from '../api/idempotency';
import { openApiDocument } from '../api/openapi';
import type * as res from '../api/response-schemas';
import { MAX_WEBHOOKS } from '../api/routes/webhooks';
import type * as wh from '../api/webhook-schemas';
import type { StatusView } from '../api/workflow-control';
import { tryLockAccount } from '../db/account-lock';
import type { Account } from '../db/accounts';
import { insertApiToken, type TokenRights } from '../db/api-tokens';
import type { AuditEntry } from '../db/audit-log';
import type { DeliveryTarget } from '../core/delivery-target';
import type { Domain } from '../db/domains';
import type { HeldMeta } from '../db/held-messages';
import { claimIdempotencyKey } from '../db/idempotency-keys';
import { saveOAuthApp } from '../db/oauth-apps';
import type { StoredMessageMeta } from '../db/mailbox-store';
import type { Webhook, WebhookDelivery } from '../db/webhooks';
import { newApiToken } from '../secrets/api-token';
import { addUser, caCertificate, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { startSmtpSink } from './support/smtp-sink';
import { SpecChecker, type Spec } from './support/openapi-checker';
import { useTestSystem, type ApiResponse, type TestSystem } from '../testkit/system';

// The response schemas describe what the routes return once JSON-encoded; tsc fails here when they drift apart.
type Json<T> = T extends Date ? string : T extends (infer U)[] ? Json<U>[] : T extends object ? { [K in keyof T]: Json<T[K]> } : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemasMatchTypes: [
  Same<z.output<typeof res.domain>, Json<Domain>>,
  Same<z.output<typeof res.account>, Json<Account>>,
  Same<z.output<typeof res.messagePage>['messages'][number], Json<StoredMessageMeta>>,
  Same<z.output<typeof res.deliveryTarget>, Json<DeliveryTarget>>,
  Same<z.output<typeof res.heldMessage>, Json<HeldMeta>>,
  Same<z.output<typeof res.auditPage>['entries'][number], Json<AuditEntry>>,
  Same<z.output<typeof res.accountStatus>, Json<StatusView>>,
  Same<z.output<typeof wh.webhook>, Json<Webhook>>,
  Same<z.output<typeof wh.webhookDelivery>, Json<WebhookDelivery>>,
] = [true, true, true, true, true, true, true, true, true];

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('OpenAPI document', () => {
  test('it describes exactly the routes the app registers, with their path parameters', () => {
    assert.deepEqual(schemasMatchTypes, [true, true, true, true, true, true, true, true, true]);
    const app = createApp({ limits: { maxBodyBytes: 1, requestsPerMinute: 1 } } as unknown as ApiDeps);
    // middleware (ALL) is no route; a route with a middleware of its own is listed once per handler
    const registered = [
      ...new Set(
        app.routes
          .filter((r) => r.method !== 'ALL' && r.path !== DOCS_PATH && !r.path.startsWith(`${DOCS_PATH}/`))
          .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
      ),
    ].sort();
    const spec = openApiDocument() as Spec;
    const described = Object.entries(spec.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    assert.deepEqual(described, registered);
    for (const [p, ops] of Object.entries(spec.paths)) {
      const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [m, op] of Object.entries(ops)) {
        const declared = (op.parameters ?? [])
          .filter((x) => x.in === 'path')
          .map((x) => x.name)
          .sort();
        assert.deepEqual(declared, inPath, `${m} ${p}`);
      }
    }
  });
});

describe('OpenAPI against the real API', () => {
  // held messages are offered again after 1 s, 2 s, 4 s …
  const sys = useTestSystem({ workerEnv: { MAILPULL_DELIVERY_RETRY_SECONDS: '1' } });
  // no worker, a tiny body limit and one request a minute per token: the middleware's answers
  const gate = useTestSystem({ worker: false, apiLimits: { maxBodyBytes: 1024, requestsPerMinute: 1 } });
  let checker: SpecChecker;

  before(async () => {
    const served = await sys.api('GET', '/api/openapi.json', undefined, null);
    assert.equal(served.status, 200);
    checker = new SpecChecker(served.body as Spec);
  });

  /** A request whose answer must match the document; returns it for the test to look at. */
  async function call<T = any>(
    system: TestSystem,
    method: string,
    url: string,
    body?: unknown,
    token: string | null = system.adminToken,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const answer = await system.api<T>(method, url, body, token, headers);
    checker.check(method, url, answer);
    return answer;
  }
  const expect = async <T = any>(status: number, method: string, url: string, body?: unknown, token?: string | null): Promise<T> => {
    const answer = await call<T>(sys, method, url, body, token);
    assert.equal(answer.status, status, `${method} ${url}: ${answer.raw.toString().slice(0, 300)}`);
    return answer.body;
  };
  /** A token of the main system with these rights; without messagesRead, the default of its scope (admin tokens have it). */
  const tokenWith = async (rights: Pick<TokenRights, 'scope'> & Partial<TokenRights>): Promise<string> => {
    const created = newApiToken();
    await insertApiToken(sys.db.pool, {
      id: created.id,
      name: `openapi ${JSON.stringify(rights)}`,
      secretHash: created.secretHash,
      ...rights,
    });
    return created.token;
  };

  test('the document and the docs page need no token and load nothing from elsewhere', async () => {
    const served = await sys.api('GET', '/api/openapi.json', undefined, null);
    assert.deepEqual(served.body, JSON.parse(JSON.stringify(openApiDocument())), 'the served document is the generated one');
    checker.check('GET', '/api/openapi.json', served);

    const page = await sys.api('GET', DOCS_PATH, undefined, null);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = page.raw.toString();
    const urls = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(urls.length >= 3, html);
    const bundle = await readFile(path.join(path.dirname(require.resolve('swagger-ui-dist/package.json')), 'swagger-ui-bundle.js'));
    for (const url of urls) {
      assert.ok(url.startsWith(`${DOCS_PATH}/`), `${url} is not one of the page's own assets`);
      const asset = await sys.api('GET', url, undefined, null);
      assert.equal(asset.status, 200, url);
      assert.ok(asset.raw.length > 0, url);
      if (url.endsWith('.css')) {
        assert.match(asset.headers.get('content-type') ?? '', /^text\/css/);
        assert.doesNotMatch(asset.raw.toString(), /@import|url\(\s*["']?(?:https?:)?\/\//i, 'the stylesheet loads nothing from elsewhere');
      }
      if (url.endsWith('.js')) assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
      if (url.endsWith('swagger-ui-bundle.js')) assert.ok(asset.raw.equals(bundle), 'Swagger UI from node_modules, byte for byte');
    }
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.ok(
      scripts.every((s) => /\bsrc="\/api\/docs\//.test(s)),
      'every script is a local file',
    );
    const init = (await sys.api('GET', `${DOCS_PATH}/init.js`, undefined, null)).raw.toString();
    assert.match(init, /url: '\/api\/openapi\.json'/);
    assert.match(init, /validatorUrl: null/, 'no badge from validator.swagger.io');
    assert.equal((await sys.api('GET', `${DOCS_PATH}/package.json`, undefined, null)).status, 404, 'only the listed assets');
    assert.equal((await sys.api('GET', '/api/domains', undefined, null)).status, 401, 'the API itself still needs a token');
    assert.deepEqual(checker.takeProblems(), []);
  });

  test('every route answers what the document says, success and error', async () => {
    const reader = await tokenWith({ scope: 'read' });
    const bodyReader = await tokenWith({ scope: 'read', messagesRead: true });
    await expect(200, 'GET', '/health', undefined, null);

    // domains and accounts
    await expect(200, 'GET', '/api/domains');
    const domain = await expect(201, 'POST', '/api/domains', { name: 'openapi.test' });
    await expect(409, 'POST', '/api/domains', { name: 'openapi.test' });
    await expect(400, 'POST', '/api/domains', { name: 'no_dots' });
    await expect(200, 'GET', `/api/domains/${domain.id}`);
    await expect(400, 'GET', '/api/domains/not-a-uuid');
    await expect(404, 'GET', `/api/domains/${MISSING}`);
    await expect(200, 'PATCH', `/api/domains/${domain.id}`, { enabled: true });
    await expect(404, 'PATCH', `/api/domains/${MISSING}`, { enabled: true });
    await expect(404, 'DELETE', `/api/domains/${MISSING}`);
    const alice = await expect(201, 'POST', '/api/accounts', { address: 'alice@openapi.test' });
    await expect(409, 'POST', '/api/accounts', { address: 'alice@openapi.test' });
    await expect(400, 'POST', '/api/accounts', { address: 'no-at-sign' });
    await expect(200, 'GET', `/api/accounts?domainId=${domain.id}`);
    await expect(400, 'GET', '/api/accounts?domainId=nope');
    await expect(200, 'GET', `/api/accounts/${alice.id}`);
    await expect(404, 'GET', `/api/accounts/${MISSING}`);
    await expect(200, 'PATCH', `/api/accounts/${alice.id}`, { enabled: true });
    await expect(404, 'PATCH', `/api/accounts/${MISSING}`, { enabled: true });
    await expect(409, 'DELETE', `/api/domains/${domain.id}`);

    // alice's own mailbox behind an APPEND target that logs in with OAuth2
    const appendTarget = await expect(201, 'POST', '/api/delivery-targets', {
      name: 'append',
      kind: 'imap',
      host: '127.0.0.1',
      port: 143,
      imapLogin: 'oauth',
    });
    const appendLogin = {
      deliveryTargetId: appendTarget.id,
      username: 'alice@mail.openapi.test',
      oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', refreshToken: 'r' },
    };
    await expect(404, 'GET', `/api/accounts/${alice.id}/append-login`);
    await expect(200, 'PUT', `/api/accounts/${alice.id}/append-login`, appendLogin);
    await expect(400, 'PUT', `/api/accounts/${alice.id}/append-login`, { ...appendLogin, deliveryTargetId: 'nope' });
    await expect(404, 'PUT', `/api/accounts/${MISSING}/append-login`, appendLogin);
    await expect(200, 'GET', `/api/accounts/${alice.id}/append-login`);
    await expect(400, 'GET', '/api/accounts/nope/append-login');
    await expect(400, 'DELETE', '/api/accounts/nope/append-login');
    await expect(204, 'DELETE', `/api/accounts/${alice.id}/append-login`);
    await expect(404, 'DELETE', `/api/accounts/${alice.id}/append-login`);
    await expect(204, 'DELETE', `/api/delivery-targets/${appendTarget.id}`);

    // webhooks, one on a local receiver that gets the collection's mail.delivered
    const receiver = http.createServer((req, reply) => req.resume().on('end', () => reply.writeHead(204).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await expect(200, 'GET', '/api/webhooks');
    const hook = await expect(201, 'POST', '/api/webhooks', { url: hookUrl, events: ['mail.delivered'] });
    await expect(400, 'POST', '/api/webhooks', { url: 'ftp://hooks.openapi.test/', events: ['mail.delivered'] });
    await expect(200, 'GET', `/api/webhooks/${hook.id}`);
    await expect(400, 'GET', '/api/webhooks/nope');
    await expect(404, 'GET', `/api/webhooks/${MISSING}`);
    assert.ok((await expect(200, 'PATCH', `/api/webhooks/${hook.id}`, { rotateSecret: true })).secret);
    await expect(400, 'PATCH', `/api/webhooks/${hook.id}`, { events: [] });
    await expect(404, 'PATCH', `/api/webhooks/${MISSING}`, {});
    await expect(400, 'GET', `/api/webhooks/${hook.id}/deliveries?limit=0`);
    await expect(404, 'GET', `/api/webhooks/${MISSING}/deliveries`);
    const spares: string[] = [];
    for (let i = 1; i < MAX_WEBHOOKS; i++)
      spares.push((await sys.ok('POST', '/api/webhooks', { url: hookUrl, events: ['account.failing'] })).id);
    await expect(409, 'POST', '/api/webhooks', { url: hookUrl, events: ['account.failing'] });
    await expect(204, 'DELETE', `/api/webhooks/${spares[0]}`);
    await expect(404, 'DELETE', `/api/webhooks/${spares[0]}`);
    await expect(400, 'DELETE', '/api/webhooks/nope');
    for (const spare of spares.slice(1)) await sys.ok('DELETE', `/api/webhooks/${spare}`, undefined, 204);

    // delivery targets: an SMTP sink refusing bob, and a spare one
    const sink = await startSmtpSink({ rcpt: (a) => (a.startsWith('bob@') ? { code: 550, message: '5.1.1 mailbox unavailable' } : null) });
    try {
      const target = await expect(201, 'POST', '/api/delivery-targets', {
        name: 'sink',
        kind: 'smtp',
        host: '127.0.0.1',
        port: sink.port,
        tlsMode: 'disabled',
      });
      await expect(409, 'POST', '/api/delivery-targets', { name: 'sink', kind: 'smtp', host: '127.0.0.1' });
      await expect(400, 'POST', '/api/delivery-targets', { name: 'no address', kind: 'lmtp' });
      const spare = await expect(201, 'POST', '/api/delivery-targets', {
        name: 'spare',
        kind: 'imap',
        host: '127.0.0.1',
        username: 'master',
        password: 'secret',
      });
      await expect(200, 'GET', '/api/delivery-targets');
      await expect(200, 'GET', `/api/delivery-targets/${spare.id}`);
      await expect(404, 'GET', `/api/delivery-targets/${MISSING}`);
      await expect(200, 'PATCH', `/api/delivery-targets/${spare.id}`, { maxConnections: 2 });
      await expect(409, 'PATCH', `/api/delivery-targets/${spare.id}`, { name: 'sink' });
      await expect(400, 'PATCH', `/api/delivery-targets/${spare.id}`, { maxConnections: 0 });
      // found by api-fuzz: the database's check answered this with a 500
      const withoutLogin = await expect(400, 'PATCH', `/api/delivery-targets/${spare.id}`, { imapLogin: null, password: 'secret' });
      assert.equal(withoutLogin.field, 'imapLogin');
      await expect(404, 'PATCH', `/api/delivery-targets/${MISSING}`, {});
      await expect(204, 'DELETE', `/api/delivery-targets/${spare.id}`);
      await expect(404, 'DELETE', `/api/delivery-targets/${spare.id}`);
      await expect(201, 'POST', '/api/domains', { name: 'refuse.openapi.test', deliveryTargetId: target.id });
      await expect(409, 'DELETE', `/api/delivery-targets/${target.id}`);
      const carol = await expect(201, 'POST', '/api/accounts', { address: 'carol@refuse.openapi.test' });
      await expect(201, 'POST', '/api/accounts', { address: 'bob@refuse.openapi.test' });

      // an external account collecting one message into alice's store
      const source = await addUser('oa');
      await saveMessages(source, [buildMessage({ to: 'alice@openapi.test', subject: 'stored' })]);
      const pop3 = {
        protocol: 'pop3',
        host: '127.0.0.1',
        port: testEnv.pop3Port(),
        tlsCa: await caCertificate(),
        username: source.name,
        password: source.password,
      };
      const external = await expect(201, 'POST', '/api/external-accounts', { ownerAccountId: alice.id, name: 'store', ...pop3 });
      await expect(400, 'POST', '/api/external-accounts', { ownerAccountId: alice.id, name: 'no host' });
      await sys.waitForCycles(external.id, 1);
      const delivered = await waitFor('the webhook delivery', async () => {
        const { deliveries } = await expect(200, 'GET', `/api/webhooks/${hook.id}/deliveries`);
        return deliveries[0]?.state === 'delivered' && deliveries;
      });
      assert.equal(delivered[0].externalAccountId, external.id);
      await expect(204, 'DELETE', `/api/webhooks/${hook.id}`);
      const status = await expect(200, 'GET', `/api/external-accounts/${external.id}/status`);
      assert.equal(status.lastRun.delivered, 1);
      await expect(404, 'GET', `/api/external-accounts/${MISSING}/status`);
      await expect(400, 'GET', '/api/external-accounts/nope/status');
      await expect(200, 'GET', '/api/external-accounts');
      await waitFor(
        'the status recorded',
        async () => (await sys.ok('GET', '/api/external-accounts?state=ok')).externalAccounts.length === 1,
      );
      const listed = await expect(200, 'GET', '/api/external-accounts?state=ok&limit=1');
      assert.equal(listed.externalAccounts[0].recordedStatus.lastRun.delivered, 1);
      await expect(400, 'GET', '/api/external-accounts?state=sleepy');
      await expect(400, 'GET', '/api/external-accounts?cursor=bm90LWEtY3Vyc29y');
      await expect(200, 'GET', `/api/external-accounts?ownerAccountId=${alice.id}`);
      await expect(400, 'GET', '/api/external-accounts?ownerAccountId=nope');
      await expect(200, 'GET', `/api/external-accounts/${external.id}`);
      await expect(404, 'GET', `/api/external-accounts/${MISSING}`);
      const page = await expect(200, 'GET', `/api/accounts/${alice.id}/messages`);
      assert.equal(page.total, 1);
      await expect(400, 'GET', `/api/accounts/${alice.id}/messages?limit=0`);
      await expect(404, 'GET', `/api/accounts/${MISSING}/messages`);
      const raw = `/api/accounts/${alice.id}/messages/${page.messages[0].id}/raw`;
      await expect(200, 'GET', raw);
      await expect(403, 'GET', raw, undefined, reader);
      await expect(200, 'GET', raw, undefined, bodyReader);
      await expect(404, 'GET', `/api/accounts/${alice.id}/messages/999999999/raw`);
      await expect(400, 'GET', `/api/accounts/${alice.id}/messages/abc/raw`);
      await expect(202, 'POST', `/api/external-accounts/${external.id}/connect-now`);
      await expect(404, 'POST', `/api/external-accounts/${MISSING}/connect-now`);
      await expect(400, 'POST', '/api/external-accounts/nope/connect-now');
      await sys.waitForCycles(external.id, 2);
      await expect(200, 'PATCH', `/api/external-accounts/${external.id}`, { enabled: false, intervalMinutes: 60 });
      await expect(400, 'PATCH', `/api/external-accounts/${external.id}`, { port: 0 });
      await expect(404, 'PATCH', `/api/external-accounts/${MISSING}`, {});
      await expect(200, 'POST', `/api/external-accounts/${external.id}/reset-index`, {});
      await expect(400, 'POST', `/api/external-accounts/${external.id}/reset-index`, { force: 'yes' });
      await expect(404, 'POST', `/api/external-accounts/${MISSING}/reset-index`, {});
      // a cycle holds the account's lock: changes that need it are refused meanwhile
      const lock = await sys.db.pool.connect();
      try {
        assert.ok(await tryLockAccount(lock, external.id));
        await expect(409, 'POST', `/api/external-accounts/${external.id}/reset-index`, {});
        await expect(409, 'PATCH', `/api/external-accounts/${external.id}`, { username: 'someone-else', password: 'p' });
      } finally {
        lock.release(true);
      }
      await expect(400, 'PUT', `/api/external-accounts/${external.id}/oauth/refresh-token`, { refreshToken: 'r' });
      await expect(404, 'PUT', `/api/external-accounts/${MISSING}/oauth/refresh-token`, { refreshToken: 'r' });
      const xoauth2 = await expect(201, 'POST', '/api/external-accounts', {
        ownerAccountId: alice.id,
        name: 'oauth',
        enabled: false,
        ...pop3,
        password: undefined,
        authMethod: 'xoauth2',
        oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'client', clientSecret: 's', refreshToken: 'r1' },
      });
      assert.equal(xoauth2.oauth.refreshTokenSet, true);
      await expect(200, 'PUT', `/api/external-accounts/${xoauth2.id}/oauth/refresh-token`, { refreshToken: 'r2' });

      // OAuth apps and sign-ins; no provider is asked: the sign-ins end with the provider's refusal
      await expect(200, 'PUT', '/api/oauth/apps/google', { clientId: 'openapi' });
      await expect(400, 'PUT', '/api/oauth/apps/nope', { clientId: 'openapi' });
      await expect(200, 'PUT', '/api/oauth/apps/google', { clientId: 'openapi', clientSecret: 'for a moment' });
      await expect(204, 'DELETE', '/api/oauth/apps/google');
      await expect(200, 'PUT', '/api/oauth/apps/google', { clientId: 'openapi' });
      await expect(404, 'DELETE', '/api/oauth/apps/custom');
      await expect(400, 'DELETE', '/api/oauth/apps/nope');
      await saveOAuthApp(sys.db.pool, {
        provider: 'microsoft',
        clientId: 'from-env',
        tenant: 'common',
        issuer: null,
        authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
        tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
        deviceAuthorizationEndpoint: null,
        scope: 'offline_access',
        source: 'env',
      });
      await expect(409, 'PUT', '/api/oauth/apps/microsoft', { clientId: 'openapi' });
      await expect(409, 'DELETE', '/api/oauth/apps/microsoft');
      const signIn = { provider: 'google', externalAccountId: xoauth2.id };
      await expect(400, 'POST', '/api/oauth/sessions', { provider: 'google' });
      const loopback = await expect(201, 'POST', '/api/oauth/sessions', {
        ...signIn,
        flow: 'loopback',
        redirectUri: 'http://127.0.0.1:9/callback',
      });
      await expect(200, 'GET', `/api/oauth/sessions/${loopback.id}`);
      await expect(400, 'GET', '/api/oauth/sessions/nope');
      await expect(404, 'GET', `/api/oauth/sessions/${MISSING}`);
      const refused = (started: { authorizationUrl: string }, base: string) =>
        `${base}?state=${new URL(started.authorizationUrl).searchParams.get('state')}&error=access_denied`;
      await expect(400, 'POST', `/api/oauth/sessions/${loopback.id}/callback`, { callbackUrl: 'not a URL' });
      await expect(404, 'POST', `/api/oauth/sessions/${MISSING}/callback`, { callbackUrl: 'http://127.0.0.1:9/callback' });
      const failed = await expect(200, 'POST', `/api/oauth/sessions/${loopback.id}/callback`, {
        callbackUrl: refused(loopback, 'http://127.0.0.1:9/callback'),
      });
      assert.equal(failed.status, 'failed');
      const browser = await expect(201, 'POST', '/api/oauth/sessions', signIn);
      for (const [url, status] of [
        [refused(browser, '/oauth/callback'), 303],
        ['/oauth/callback', 400],
      ] as const) {
        // the browser follows the redirect; the check looks at the redirect itself
        const answer = await fetch(sys.baseUrl + url, { redirect: 'manual' });
        const raw = Buffer.from(await answer.arrayBuffer());
        checker.check('GET', url, { status: answer.status, headers: answer.headers, raw, body: raw.toString() });
        assert.equal(answer.status, status, url);
      }
      await expect(204, 'DELETE', `/api/external-accounts/${xoauth2.id}`);
      await expect(404, 'DELETE', `/api/external-accounts/${xoauth2.id}`);
      await expect(400, 'DELETE', `/api/external-accounts/${external.id}?discardQuarantine=maybe`);
      await expect(409, 'DELETE', `/api/accounts/${alice.id}`);

      // a message for bob, whom the target refuses: quarantined
      const refusedSource = await addUser('oq');
      await saveMessages(refusedSource, [buildMessage({ to: 'bob@refuse.openapi.test', subject: 'refused' })]);
      const refusing = await expect(201, 'POST', '/api/external-accounts', {
        ownerAccountId: carol.id,
        name: 'refused',
        ...pop3,
        username: refusedSource.name,
        password: refusedSource.password,
        mimeRecipients: { enabled: true },
      });
      const held = await waitFor('a quarantined message', async () => {
        const list = await expect(200, 'GET', `/api/quarantine?externalAccountId=${refusing.id}`);
        return list.total === 1 && list.messages[0];
      });
      await expect(400, 'GET', '/api/quarantine?state=lost');
      await expect(200, 'GET', `/api/quarantine/${held.id}`);
      await expect(200, 'GET', `/api/quarantine/${held.id}/raw`);
      await expect(403, 'GET', `/api/quarantine/${held.id}/raw`, undefined, reader);
      await expect(200, 'GET', `/api/quarantine/${held.id}/raw`, undefined, bodyReader);
      await expect(400, 'GET', '/api/quarantine/abc');
      await expect(404, 'GET', '/api/quarantine/999999999');
      await expect(404, 'GET', '/api/quarantine/999999999/raw');
      await expect(400, 'GET', '/api/quarantine/abc/raw');
      await expect(409, 'DELETE', `/api/external-accounts/${refusing.id}`);
      // bob's server now says "later": the retried message waits, pending
      sink.script.rcpt = (a) => (a.startsWith('bob@') ? { code: 451, message: '4.2.0 try later' } : null);
      const retried = await expect(202, 'POST', `/api/quarantine/${held.id}/retry`);
      assert.equal(retried.state, 'pending');
      await expect(409, 'POST', `/api/quarantine/${held.id}/retry`);
      await expect(409, 'DELETE', `/api/quarantine/${held.id}`);
      await expect(200, 'GET', '/api/quarantine?state=pending');
      await expect(404, 'POST', '/api/quarantine/999999999/retry');
      await expect(400, 'POST', '/api/quarantine/abc/retry');
      sink.script.rcpt = (a) => (a.startsWith('bob@') ? { code: 550, message: '5.1.1 mailbox unavailable' } : null);
      await waitFor(
        'the message back in quarantine',
        async () => (await sys.ok('GET', `/api/quarantine/${held.id}`)).state === 'quarantined',
        60_000,
      );
      await expect(204, 'DELETE', `/api/quarantine/${held.id}`);
      await expect(404, 'DELETE', `/api/quarantine/${held.id}`);
      await expect(400, 'DELETE', '/api/quarantine/abc');
      await expect(204, 'DELETE', `/api/external-accounts/${refusing.id}`);
    } finally {
      await sink.close();
      await new Promise((resolve) => receiver.close(resolve));
    }

    await expect(200, 'GET', '/api/audit');
    const me = await expect(200, 'GET', '/api/me');
    assert.equal(me.scope, 'admin');
    await expect(200, 'GET', '/api/ui-config');
    await expect(200, 'GET', '/metrics');
    await expect(400, 'GET', '/api/audit?limit=0');
    await expect(403, 'GET', '/api/audit', undefined, reader);
    const lonely = await expect(201, 'POST', '/api/accounts', { address: 'lonely@openapi.test' });
    await expect(204, 'DELETE', `/api/accounts/${lonely.id}`);
    await expect(404, 'DELETE', `/api/accounts/${lonely.id}`);
    await expect(400, 'DELETE', '/api/accounts/nope');
    await expect(400, 'PATCH', `/api/accounts/${alice.id}`, { enabled: 'yes' });
    await expect(400, 'PATCH', `/api/domains/${domain.id}`, { enabled: 'yes' });
    await expect(400, 'DELETE', '/api/domains/nope');
    await expect(400, 'DELETE', '/api/delivery-targets/nope');
    await expect(400, 'GET', '/api/delivery-targets/nope');
    await expect(400, 'GET', '/api/accounts/nope');
    await expect(400, 'GET', '/api/external-accounts/nope');
    const empty = await expect(201, 'POST', '/api/domains', { name: 'empty.openapi.test' });
    await expect(204, 'DELETE', `/api/domains/${empty.id}`);
    assert.deepEqual(checker.takeProblems(), []);
  });

  test("a token limited to one domain: 404 for another domain's objects, 403 for what belongs to no domain", async () => {
    const mine = await expect(201, 'POST', '/api/domains', { name: 'mine.openapi.test' });
    const theirs = await expect(201, 'POST', '/api/domains', { name: 'theirs.openapi.test' });
    const owner = await expect(201, 'POST', '/api/accounts', { address: 'owner@mine.openapi.test' });
    const stranger = await expect(201, 'POST', '/api/accounts', { address: 'stranger@theirs.openapi.test' });
    const target = await expect(201, 'POST', '/api/delivery-targets', { name: 'mine', kind: 'lmtp', host: '127.0.0.1' });
    await expect(200, 'PATCH', `/api/domains/${mine.id}`, { deliveryTargetId: target.id });
    const limited = await tokenWith({ scope: 'admin', domainIds: [mine.id] });

    const listed = await expect<z.output<typeof res.domainList>>(200, 'GET', '/api/domains', undefined, limited);
    assert.deepEqual(
      listed.domains.map((d) => d.id),
      [mine.id],
    );
    await expect(200, 'GET', `/api/accounts/${owner.id}`, undefined, limited);
    await expect(404, 'GET', `/api/accounts/${stranger.id}`, undefined, limited);
    await expect(404, 'GET', `/api/accounts/${stranger.id}/messages`, undefined, limited);
    await expect(404, 'PATCH', `/api/domains/${theirs.id}`, { enabled: false }, limited);
    await expect(404, 'DELETE', `/api/accounts/${stranger.id}`, undefined, limited);
    await expect(400, 'POST', '/api/accounts', { address: 'new@theirs.openapi.test' }, limited);
    await expect(403, 'POST', '/api/domains', { name: 'new.openapi.test' }, limited);
    await expect(200, 'GET', `/api/delivery-targets/${target.id}`, undefined, limited);
    await expect(403, 'POST', '/api/delivery-targets', { name: 'new', kind: 'lmtp', host: '127.0.0.1' }, limited);
    await expect(403, 'PATCH', `/api/delivery-targets/${target.id}`, { maxConnections: 2 }, limited);
    await expect(403, 'DELETE', `/api/delivery-targets/${target.id}`, undefined, limited);
    await expect(403, 'GET', '/api/audit', undefined, limited);
    assert.deepEqual(checker.takeProblems(), []);
  });

  test("the middleware's answers on every route (401, 403, 413, 429) and a status without a worker (503) match the document", async () => {
    const fill = (template: string): string =>
      template.replace(/\{(\w+)\}/g, (_, name: string) =>
        template.startsWith('/api/quarantine') || name === 'messageId' ? '999999999' : MISSING,
      );
    for (const [template, ops] of Object.entries(checker.spec.paths)) {
      for (const [op, doc] of Object.entries(ops)) {
        if (!doc.responses['401']) continue;
        const method = op.toUpperCase();
        const url = fill(template);
        assert.equal((await call(gate, method, url, undefined, null)).status, 401, `${method} ${url}`);
        if (doc.responses['413'])
          assert.equal((await call(gate, method, url, JSON.stringify('x'.repeat(2000)), null)).status, 413, `${method} ${url}`);
        const once = await gate.createToken(doc.responses['403'] ? 'read' : 'admin');
        const first = await call(gate, method, url, undefined, once);
        if (doc.responses['403']) assert.equal(first.status, 403, `${method} ${url}`);
        assert.equal((await call(gate, method, url, undefined, once)).status, 429, `${method} ${url}`);
      }
    }
    const admin = () => gate.createToken('admin');
    await call(gate, 'POST', '/api/domains', { name: 'gate.test' }, await admin());
    const owner = await call(gate, 'POST', '/api/accounts', { address: 'owner@gate.test' }, await admin());
    const external = await call(
      gate,
      'POST',
      '/api/external-accounts',
      { ownerAccountId: owner.body.id, name: 'no worker', host: 'pop.gate.test', username: 'u', password: 'p' },
      await admin(),
    );
    assert.equal(external.status, 201);
    assert.equal((await call(gate, 'GET', `/api/external-accounts/${external.body.id}/status`, undefined, await admin())).status, 503);
    assert.deepEqual(checker.takeProblems(), []);
  });

  test('every create takes an Idempotency-Key: the first answer again, 422 with another body, 409 while the first runs', async () => {
    const owner = await expect(201, 'POST', '/api/accounts', { address: 'idem@openapi.test' });
    const creates: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['/api/domains', { name: 'idem.openapi.test' }, { name: 'idem2.openapi.test' }],
      ['/api/accounts', { address: 'other@idem.openapi.test' }, { address: 'another@idem.openapi.test' }],
      ['/api/delivery-targets', { name: 'idem', kind: 'lmtp', host: '127.0.0.1' }, { name: 'idem2', kind: 'lmtp', host: '127.0.0.1' }],
      [
        '/api/webhooks',
        { url: 'https://hooks.openapi.test/idem', events: ['account.failing'] },
        { url: 'https://hooks.openapi.test/2', events: ['mail.delivered'] },
      ],
      [
        '/api/external-accounts',
        { ownerAccountId: owner.id, name: 'idem', host: '127.0.0.1', username: 'u', password: 'p', enabled: false },
        { ownerAccountId: owner.id, name: 'idem2', host: '127.0.0.1', username: 'u', password: 'p', enabled: false },
      ],
    ];
    for (const [url, body, other] of creates) {
      const key = { 'Idempotency-Key': `openapi:${url}` };
      const first = await call(sys, 'POST', url, body, sys.adminToken, key);
      assert.equal(first.status, 201, `${url}: ${first.raw.toString()}`);
      const again = await call(sys, 'POST', url, body, sys.adminToken, key);
      assert.deepEqual([again.status, again.body], [201, first.body], url);
      assert.equal((await call(sys, 'POST', url, other, sys.adminToken, key)).status, 422, url);
    }
    // a request with this key that another API process is still answering
    const running = { ownerAccountId: owner.id, name: 'running', host: '127.0.0.1', username: 'u', password: 'p', enabled: false };
    const tokenId = sys.adminToken.split('_')[1];
    const fingerprint = requestFingerprint('POST', '/api/external-accounts', Buffer.from(JSON.stringify(running)));
    assert.equal((await claimIdempotencyKey(sys.db.pool, tokenId, 'running', fingerprint)).kind, 'claimed');
    const busy = await call(sys, 'POST', '/api/external-accounts', running, sys.adminToken, { 'Idempotency-Key': 'running' });
    assert.equal(busy.status, 409, busy.raw.toString());
    assert.equal(busy.body.field, 'Idempotency-Key');
    assert.deepEqual(checker.takeProblems(), []);
  });

  test('every answer the document lists was seen, but 500', () => {
    assert.deepEqual(
      checker.unseen().filter((key) => !key.endsWith(' 500')),
      [],
    );
  });
});
