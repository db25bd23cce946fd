import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { createApp } from '../api/app';
import { PUBLIC_DOCS_ROUTES } from '../api/docs-routes';
import { openApiDocument } from '../api/openapi';
import { insertApiToken } from '../db/api-tokens';
import { newApiToken } from '../secrets/api-token';
import { useTestSystem } from '../testkit/system';

const CLI = path.resolve(__dirname, '../cli/main.js');
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The routes that need no token, as the app registers them. */
const PUBLIC = new Set(['GET /health', ...PUBLIC_DOCS_ROUTES]);
/** Where a provider sends the browser back after sign-in: no token; the single-use state is the credential. */
const OAUTH_CALLBACK = 'GET /oauth/callback';
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

/** "METHOD /path" with the path's ids as the app's parameters: "GET /api/accounts/:id/messages/:messageId/raw". */
const routeOf = (method: string, path: string): string =>
  `${method} ${path
    .replace(/[0-9a-f-]{36}/g, ':id')
    .replace('/messages/1/', '/messages/:messageId/')
    .replace('/quarantine/1', '/quarantine/:id')
    .replace('/oauth/apps/google', '/oauth/apps/:provider')}`;

/** The routes that read a JSON body, by the OpenAPI document; any other ignores what is sent. */
const READS_BODY = new Set(
  Object.entries((openApiDocument() as { paths: Record<string, Record<string, { requestBody?: unknown }>> }).paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => op.requestBody)
      .map(([method]) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  ),
);

describe('API authentication', () => {
  const sys = useTestSystem({ worker: false });
  /** adminOnly: needs an admin token; bodies: returns message bytes, needs messages:read */
  let routes: { method: string; path: string; body?: unknown; adminOnly?: boolean; bodies?: boolean }[];
  before(async () => {
    const owner = await sys.localAccount('owner@auth-api.test');
    const domain = (await sys.ok('GET', '/api/domains')).domains[0];
    const external = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'x',
      host: '127.0.0.1',
      username: 'u',
      password: 'p',
    });
    const e = `/api/external-accounts/${external.id}`;
    const target = await sys.ok('POST', '/api/delivery-targets', { name: 'auth target', kind: 'lmtp', host: '127.0.0.1', port: 24 });
    const t = `/api/delivery-targets/${target.id}`;
    const hook = await sys.ok('POST', '/api/webhooks', { url: 'https://hooks.auth-api.test/', events: ['account.failing'] });
    const w = `/api/webhooks/${hook.id}`;
    routes = [
      { method: 'GET', path: '/api/domains' },
      { method: 'POST', path: '/api/domains', body: { name: 'new.test' } },
      { method: 'GET', path: `/api/domains/${domain.id}` },
      { method: 'PATCH', path: `/api/domains/${domain.id}`, body: { enabled: false } },
      { method: 'DELETE', path: `/api/domains/${domain.id}` },
      { method: 'GET', path: '/api/accounts' },
      { method: 'POST', path: '/api/accounts', body: { address: 'new@auth-api.test' } },
      { method: 'GET', path: `/api/accounts/${owner.id}` },
      { method: 'PATCH', path: `/api/accounts/${owner.id}`, body: { enabled: false } },
      { method: 'DELETE', path: `/api/accounts/${owner.id}` },
      { method: 'GET', path: `/api/accounts/${owner.id}/messages` },
      { method: 'GET', path: `/api/accounts/${owner.id}/messages/1/raw`, bodies: true },
      { method: 'GET', path: '/api/external-accounts' },
      {
        method: 'POST',
        path: '/api/external-accounts',
        body: { ownerAccountId: owner.id, name: 'y', host: 'h.test', username: 'u', password: 'p' },
      },
      { method: 'GET', path: e },
      { method: 'PATCH', path: e, body: { name: 'renamed' } },
      { method: 'PUT', path: `${e}/oauth/refresh-token`, body: { refreshToken: 'r' } },
      { method: 'DELETE', path: e },
      { method: 'POST', path: `${e}/connect-now` },
      { method: 'POST', path: `${e}/reset-index`, body: {} },
      { method: 'GET', path: `${e}/status` },
      { method: 'GET', path: '/api/delivery-targets' },
      { method: 'POST', path: '/api/delivery-targets', body: { name: 'other', kind: 'smtp', host: 'mx.test' } },
      { method: 'GET', path: t },
      { method: 'PATCH', path: t, body: { maxConnections: 2 } },
      { method: 'DELETE', path: t },
      { method: 'GET', path: '/api/quarantine' },
      { method: 'GET', path: '/api/quarantine/1' },
      { method: 'GET', path: '/api/quarantine/1/raw', bodies: true },
      { method: 'POST', path: '/api/quarantine/1/retry' },
      { method: 'DELETE', path: '/api/quarantine/1' },
      { method: 'GET', path: '/api/audit', adminOnly: true },
      { method: 'GET', path: '/api/webhooks', adminOnly: true },
      { method: 'POST', path: '/api/webhooks', body: { url: 'https://other.auth-api.test/', events: ['mail.delivered'] } },
      { method: 'GET', path: w, adminOnly: true },
      { method: 'PATCH', path: w, body: { enabled: false } },
      { method: 'DELETE', path: w },
      { method: 'GET', path: `${w}/deliveries`, adminOnly: true },
      { method: 'GET', path: '/api/providers' },
      { method: 'GET', path: `/api/accounts/${owner.id}/append-login` },
      {
        method: 'PUT',
        path: `/api/accounts/${owner.id}/append-login`,
        body: { deliveryTargetId: target.id, username: 'u', oauth: { provider: 'google', clientId: 'c', refreshToken: 'r' } },
      },
      { method: 'DELETE', path: `/api/accounts/${owner.id}/append-login` },
      { method: 'GET', path: '/api/oauth/apps' },
      { method: 'PUT', path: '/api/oauth/apps/google', body: { clientId: 'c', clientSecret: 's' } },
      { method: 'DELETE', path: '/api/oauth/apps/google' },
      { method: 'POST', path: '/api/oauth/sessions', body: { provider: 'google', flow: 'device', externalAccountId: external.id } },
      { method: 'GET', path: `/api/oauth/sessions/${MISSING_ID}` },
      { method: 'POST', path: `/api/oauth/sessions/${MISSING_ID}/callback`, body: { callbackUrl: 'http://127.0.0.1/?code=c&state=s' } },
      { method: 'GET', path: '/api/me' },
      { method: 'GET', path: '/api/ui-config' },
      { method: 'GET', path: '/metrics' },
    ];
  });

  test('the test covers every route the API has', () => {
    const app = createApp({
      pool: sys.db.pool,
      keyring: null as never,
      workflows: null as never,
      limits: { maxBodyBytes: 1024, requestsPerMinute: 1 },
      networkPolicy: null as never,
    });
    const registered = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !PUBLIC.has(r) && r !== OAUTH_CALLBACK);
    const covered = new Set(routes.map((r) => routeOf(r.method, r.path)));
    assert.deepEqual(
      registered.filter((route) => !covered.has(route.replace(/\/$/, '') || route)),
      [],
      'routes the test does not cover',
    );
  });

  test('every route answers 401 JSON without a token or with a wrong, malformed or revoked one; /health and the API docs need none', async () => {
    const revoked = await sys.createToken('admin', 'to revoke');
    await sys.db.pool.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1', [revoked.split('_')[1]]);
    const forged = sys.adminToken.slice(0, -4) + 'AAAA';
    for (const route of routes) {
      for (const token of [null, 'nonsense', forged, revoked]) {
        const res = await sys.api(route.method, route.path, route.body, token);
        assert.equal(res.status, 401, `${route.method} ${route.path} with ${token ? 'a bad token' : 'no token'}`);
        assert.equal(res.body.error, 'unauthorized');
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    }
    assert.equal((await sys.api('GET', '/api/no-such-route', undefined, null)).status, 401);
    const callback = await fetch(`${sys.baseUrl}/oauth/callback?state=forged&code=stolen`);
    assert.equal(callback.status, 400, 'a state no sign-in gave is refused');
    assert.match(await callback.text(), /Sign-in failed/);
    for (const route of PUBLIC) {
      const [method, path] = route.split(' ');
      const res = await sys.api(method, path.replace(':file', 'init.js'), undefined, null);
      assert.equal(res.status, 200, route);
    }
  });

  test('a read-only token (made by the tokens command) reads all but message bodies, and every write is 403 and changes nothing', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile };
    const token = (await run(process.execPath, [CLI, 'tokens', 'create', '--name', 'dashboard', '--read-only'], { env })).stdout.trim();
    const before = (await sys.ok('GET', '/api/external-accounts')).externalAccounts;
    for (const route of routes) {
      const res = await sys.api(route.method, route.path, route.body, token);
      if (WRITES.has(route.method) || route.adminOnly || route.bodies) {
        assert.equal(res.status, 403, `${route.method} ${route.path}`);
        assert.equal(res.body.error, 'forbidden');
      } else {
        assert.ok(![401, 403].includes(res.status), `${route.method} ${route.path} is allowed: ${res.status}`);
      }
    }
    assert.deepEqual((await sys.ok('GET', '/api/external-accounts')).externalAccounts, before, 'nothing changed');
    const listed = (await run(process.execPath, [CLI, 'tokens', 'list'], { env })).stdout;
    assert.ok(!listed.includes(token.split('_').slice(2).join('_')), 'the list never shows a secret');
    const id = token.split('_')[1];
    await run(process.execPath, [CLI, 'tokens', 'revoke', id], { env });
    assert.equal((await sys.api('GET', '/api/domains', undefined, token)).status, 401, 'revoked at once');
  });

  test('fuzzed input never gets a 5xx', async () => {
    const ids = fc.oneof(
      fc.constantFrom(...routes.map((r) => /[0-9a-f-]{36}/.exec(r.path)?.[0]).filter((x): x is string => !!x)),
      fc.uuid(),
      fc.string({ maxLength: 40 }),
    );
    const fields = [
      'ownerAccountId',
      'name',
      'enabled',
      'protocol',
      'host',
      'port',
      'tlsMode',
      'tlsCa',
      'allowInvalidCertificates',
      'authMethod',
      'folders',
      'mirrorFolders',
      'push',
      'receiveTime',
      'forwardToAccountId',
      'username',
      'password',
      'oauth',
      'intervalMinutes',
      'deletePolicy',
      'mimeRecipients',
      'address',
      'force',
      'refreshToken',
      'kind',
      'socketPath',
      'imapLogin',
      'maxConnections',
      'deliveryTarget',
      'deliveryTargetId',
    ];
    const plausible = fc.constantFrom<unknown>(
      'imap',
      'pop3',
      'xoauth2',
      'apop',
      'password',
      'detect',
      'direct',
      'disabled',
      'never',
      'immediately',
      { afterDays: 3 },
      { mode: 'all', exclude: ['\\Trash'] },
      { mode: 'list', names: [] },
      { provider: 'google', clientId: 'c', refreshToken: 'r' },
      { provider: 'custom', clientId: 'c', refreshToken: 'r', tokenEndpoint: 'http://10.0.0.1/t' },
      0,
      -1,
      65536,
      1e308,
      '',
      'a\r\nb',
      null,
      routes[0].path,
      '00000000-0000-0000-0000-000000000000',
      'lmtp',
      'smtp',
      'imap',
      'store',
      'master',
      'user',
      '/run/dovecot/lmtp',
    );
    const owner = (await sys.ok('GET', '/api/accounts')).accounts[0].id as string;
    const body = fc.oneof(
      fc.jsonValue(),
      fc.string(),
      fc
        .dictionary(fc.constantFrom(...fields), fc.oneof(fc.jsonValue(), plausible), { maxKeys: 6 })
        .map((patch) => ({ ownerAccountId: owner, name: 'f', host: '127.0.0.1', username: 'u', password: 'p', ...patch })),
    );
    const request = fc.record({
      template: fc.constantFrom(...routes.map((r) => ({ method: r.method, path: r.path }))),
      id: ids,
      body,
      query: fc.dictionary(
        fc.constantFrom('limit', 'offset', 'folder', 'ownerAccountId', 'externalAccountId', 'state', 'x'),
        fc.string({ maxLength: 20 }),
        { maxKeys: 3 },
      ),
    });
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ template, id, body: payload, query }) => {
        // a status with a real id waits for a worker this system does not run: 503 by design
        const path = template.path.endsWith('/status')
          ? template.path.replace(/[0-9a-f-]{36}/, encodeURIComponent(id) + 'x')
          : template.path.replace(/[0-9a-f-]{36}/, encodeURIComponent(id));
        const search = new URLSearchParams(query).toString();
        const res = await sys.api(template.method, search ? `${path}?${search}` : path, WRITES.has(template.method) ? payload : undefined);
        requests++;
        assert.ok(res.status < 500, `${template.method} ${path} ${JSON.stringify(payload)} → ${res.status} ${res.raw.toString()}`);
        if (res.status >= 400) assert.equal(typeof res.body.message, 'string');
      }),
      { numRuns: 3000, includeErrorInReport: true },
    );
    console.log(`fuzz: ${requests} requests, no 5xx`);
    assert.ok(requests >= 3000);
  });

  test('fuzzed requests with a token limited to another domain never get a 5xx and never reach the first domain', async () => {
    const theirs = await sys.localAccount('owner@other.auth-api.test');
    const theirDomain = (await sys.ok('GET', `/api/accounts/${theirs.id}`)).domainId as string;
    const created = newApiToken();
    await insertApiToken(sys.db.pool, {
      id: created.id,
      name: 'limited to the other domain',
      scope: 'admin',
      secretHash: created.secretHash,
      domainIds: [theirDomain],
    });
    // everything but the other domain's own objects; delivery targets are changed by unscoped tokens only
    const untouchable = async (): Promise<string> => {
      const rows = async (sql: string): Promise<unknown[]> => (await sys.db.pool.query(sql, [theirDomain])).rows;
      return JSON.stringify([
        await rows('SELECT * FROM domains WHERE id <> $1 ORDER BY id'),
        await rows('SELECT * FROM accounts WHERE domain_id <> $1 ORDER BY id'),
        await rows(
          'SELECT e.* FROM external_accounts e JOIN accounts a ON a.id = e.owner_account_id WHERE a.domain_id <> $1 ORDER BY e.id',
        ),
        await rows('SELECT * FROM delivery_targets WHERE $1::uuid IS NOT NULL ORDER BY id'),
      ]);
    };
    const before = await untouchable();
    const firstIds = [...new Set(routes.map((r) => /[0-9a-f-]{36}/.exec(r.path)?.[0]).filter((x): x is string => !!x))];
    const ids = fc.oneof(fc.constantFrom(...firstIds), fc.constantFrom(theirDomain, theirs.id), fc.uuid());
    const references = ['ownerAccountId', 'forwardToAccountId', 'deliveryTarget', 'deliveryTargetId'];
    const fields = fc.dictionary(
      fc.constantFrom(...references, 'name', 'enabled', 'refreshToken', 'force'),
      fc.oneof(ids, fc.jsonValue()),
      {
        maxKeys: 4,
      },
    );
    const body = fc.oneof(
      fields,
      fields.map((patch) => ({ ownerAccountId: theirs.id, name: 'f', host: '127.0.0.1', username: 'u', password: 'p', ...patch })),
      fc.constantFrom({ address: 'new@auth-api.test' }, { address: 'new@other.auth-api.test' }, { name: 'new.auth-api.test' }),
    );
    const request = fc.record({
      template: fc.constantFrom(...routes.map((r) => ({ method: r.method, path: r.path }))),
      id: ids,
      body,
      query: fc.dictionary(fc.constantFrom('domainId', 'ownerAccountId', 'externalAccountId'), ids, { maxKeys: 2 }),
    });
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ template, id, body: payload, query }) => {
        const path = template.path.replace(/[0-9a-f-]{36}/, id);
        const search = new URLSearchParams(query).toString();
        const sent = WRITES.has(template.method) ? payload : undefined;
        const res = await sys.api(template.method, search ? `${path}?${search}` : path, sent, created.token);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const what = `${template.method} ${path}?${search} ${JSON.stringify(sent)} → ${res.status} ${res.raw.toString().slice(0, 300)}`;
        assert.ok(res.status < 500, what);
        // webhooks belong to no domain: their every route answers 403 to a limited token
        const unscopedOnly = template.path.startsWith('/api/webhooks');
        if (firstIds.includes(id) && path.includes(id)) assert.equal(res.status, unscopedOnly ? 403 : 404, what);
        const named = READS_BODY.has(routeOf(template.method, template.path)) ? (sent as Record<string, unknown> | undefined) : undefined;
        if (references.some((field) => firstIds.includes(named?.[field] as string)) || named?.address === 'new@auth-api.test') {
          assert.ok(res.status >= 400, what);
        }
        // an id the request itself carried as free text (a name, say) is echoed, not leaked
        const shown = firstIds.filter((first) => res.raw.toString().includes(first) && !JSON.stringify(sent ?? null).includes(first));
        if (res.status < 300) assert.deepEqual(shown, [], `${what}: shows the first domain`);
      }),
      { numRuns: 1500, includeErrorInReport: true },
    );
    console.log(`fuzz with a limited token: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.equal(await untouchable(), before, 'nothing outside its domain changed');
    assert.ok((statuses.get(200) ?? 0) + (statuses.get(201) ?? 0) > 0, 'some requests did their work');
  });
});
