import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createApp } from '../api/app';
import { PUBLIC_DOCS_ROUTES } from '../api/docs-routes';
import { loopbackPolicy } from '../testkit/network-policy';
import { useTestSystem } from '../testkit/system';

const CLI = path.resolve(__dirname, '../cli/main.js');
const run = promisify(execFile);

/** One local domain with one of everything a token can be limited to, and its own tokens. */
interface Side {
  name: string;
  domain: string;
  account: string;
  second: string;
  external: string;
  target: string;
  message: string;
  held: string;
  /** a sign-in begun for the external account (browser flow: nothing asked of the provider yet) */
  signIn: string;
  raw: Buffer;
  /** admin, limited to this domain */
  token: string;
  /** read-only, limited to this domain, without messages:read */
  reader: string;
  /** read-only, limited to this domain, with messages:read */
  bodiesReader: string;
}

/** Which object the :id of a route names, by the route's prefix. A new route group must be added here. */
const OBJECT_BY_PREFIX: [string, 'domain' | 'account' | 'external' | 'target' | 'held' | 'signIn'][] = [
  ['/api/domains/:id', 'domain'],
  ['/api/accounts/:id', 'account'],
  ['/api/external-accounts/:id', 'external'],
  ['/api/delivery-targets/:id', 'target'],
  ['/api/quarantine/:id', 'held'],
  ['/api/oauth/sessions/:id', 'signIn'],
];

/** Route groups of no domain, whose every route answers 403 to a limited token (test/webhooks.test.ts checks each). */
const UNSCOPED_ONLY = ['/api/webhooks', '/api/oauth/apps/'];

/** Bodies that would change something, were the object the token's own. */
const BODIES: Record<string, unknown> = {
  'PATCH /api/domains/:id': { enabled: false },
  'PATCH /api/accounts/:id': { enabled: false },
  'PATCH /api/external-accounts/:id': { name: 'taken over', enabled: true },
  'PUT /api/external-accounts/:id/oauth/refresh-token': { refreshToken: 'r' },
  'POST /api/external-accounts/:id/reset-index': { force: true },
  'PATCH /api/delivery-targets/:id': { maxConnections: 2 },
};

const MISSING_UUID = '00000000-0000-4000-8000-000000000000';

describe('API tokens limited to some local domains', () => {
  const sys = useTestSystem({ worker: false });
  const sides: Record<'a' | 'b', Side> = {} as never;
  let routes: { method: string; path: string }[];
  const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile });
  const cli = async (...args: string[]): Promise<string> => (await run(process.execPath, [CLI, ...args], { env: cliEnv() })).stdout.trim();

  /** Everything a request could change, as one comparable text; with the history length of each workflow. */
  const snapshot = async (): Promise<string> => {
    const rows = async (sql: string): Promise<unknown[]> => (await sys.db.pool.query(sql)).rows;
    const histories: number[] = [];
    for (const side of Object.values(sides)) {
      histories.push(
        await sys.history(side.external).then(
          (h) => h.events?.length ?? 0,
          () => -1,
        ),
      );
    }
    return JSON.stringify({
      domains: await rows('SELECT * FROM domains ORDER BY id'),
      accounts: await rows('SELECT * FROM accounts ORDER BY id'),
      external: await rows('SELECT * FROM external_accounts ORDER BY id'),
      secrets: await rows('SELECT external_account_id, name, sealed FROM external_account_secrets ORDER BY 1, 2'),
      targets: await rows('SELECT * FROM delivery_targets ORDER BY id'),
      held: await rows('SELECT id, external_account_id, state, reason, attempts, next_attempt_at FROM held_messages ORDER BY id'),
      recipients: await rows('SELECT * FROM held_recipients ORDER BY 1, 2'),
      messages: await rows('SELECT id, account_id, folder, flags FROM messages ORDER BY id'),
      index: await rows('SELECT external_account_id, uid FROM uid_index ORDER BY 1, 2'),
      histories,
    });
  };

  /** The route with the side's objects in its parameters; fails for a route this test does not know. */
  const fill = (route: string, side: Side): string => {
    if (!route.includes(':')) return route;
    const known = OBJECT_BY_PREFIX.find(([prefix]) => route === prefix || route.startsWith(`${prefix}/`));
    assert.ok(known, `${route}: which object its :id names must be added to OBJECT_BY_PREFIX`);
    const filled = route.replace(':id', side[known[1]]).replace(':messageId', side.message);
    assert.ok(!filled.includes(':'), `${route}: a parameter this test does not know`);
    return filled;
  };

  /** An answer with the ids it names replaced, to compare a refusal with a missing id's. */
  const shape = (body: { error?: string; message?: string }, ids: string[]): unknown => ({
    error: body.error,
    message: ids.reduce((m, id) => m?.split(id).join(':id'), body.message),
  });

  /** The uuids first: a short numeric id could be part of one. */
  const idsOf = (side: Side): string[] => [side.domain, side.account, side.external, side.target, side.signIn, side.held, side.message];

  before(async () => {
    await sys.ok('PUT', '/api/oauth/apps/google', { clientId: 'scoped-tokens-test', clientSecret: 'secret' });
    for (const name of ['a', 'b'] as const) {
      const domainName = `${name}.scope.test`;
      const domain = await sys.ok('POST', '/api/domains', { name: domainName });
      const account = await sys.ok('POST', '/api/accounts', { address: `owner@${domainName}` });
      const second = await sys.ok('POST', '/api/accounts', { address: `second@${domainName}` });
      const target = await sys.ok('POST', '/api/delivery-targets', { name: `target ${name}`, kind: 'lmtp', host: '127.0.0.1', port: 24 });
      await sys.ok('PATCH', `/api/domains/${domain.id}`, { deliveryTargetId: target.id });
      const external = await sys.ok('POST', '/api/external-accounts', {
        ownerAccountId: account.id,
        name: `remote ${name}`,
        host: '127.0.0.1',
        username: 'u',
        password: `password of ${name}`,
        enabled: false,
      });
      // the local account's own mailbox behind an APPEND target that logs in with OAuth2
      const appendTarget = await sys.ok('POST', '/api/delivery-targets', {
        name: `append ${name}`,
        kind: 'imap',
        host: '127.0.0.1',
        port: 143,
        imapLogin: 'oauth',
      });
      await sys.ok('PUT', `/api/accounts/${account.id}/append-login`, {
        deliveryTargetId: appendTarget.id,
        username: `owner@${domainName}`,
        oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', refreshToken: `grant of ${name}` },
      });
      const raw = Buffer.from(`Subject: for ${name}\r\n\r\nbody of ${name}\r\n`);
      const pool = sys.db.pool;
      await pool.query('INSERT INTO uid_index (external_account_id, uid, size) VALUES ($1, $2, 10)', [external.id, `uid-${name}`]);
      const message = (
        await pool.query<{ id: string }>(
          "INSERT INTO messages (account_id, raw, size, subject) VALUES ($1, $2, $3, 'hello') RETURNING id::text",
          [account.id, raw, raw.length],
        )
      ).rows[0].id;
      const held = (
        await pool.query<{ id: string }>(
          `INSERT INTO held_messages (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, local_folder,
                                      raw, size, content_hash, internal_date, envelope_from, state, reason, quarantined_at)
           VALUES ($1, '', '', $2, 0, 'INBOX', $3, $4, 'hash', now(), 'sender@remote.test', 'quarantined', '550 refused', now())
           RETURNING id::text`,
          [external.id, `held-${name}`, raw, raw.length],
        )
      ).rows[0].id;
      await pool.query("INSERT INTO held_recipients (held_message_id, account_id, state, response) VALUES ($1, $2, 'rejected', '550')", [
        held,
        account.id,
      ]);
      sides[name] = {
        name: domainName,
        domain: domain.id,
        account: account.id,
        second: second.id,
        external: external.id,
        target: target.id,
        message,
        held,
        signIn: '',
        raw,
        // by name, by id: both name a domain
        token: await cli('tokens', 'create', '--name', `admin of ${name}`, '--domain', domainName),
        reader: await cli('tokens', 'create', '--name', `reader of ${name}`, '--read-only', '--domain', domain.id),
        bodiesReader: await cli(
          'tokens',
          'create',
          '--name',
          `body reader of ${name}`,
          '--read-only',
          '--messages-read',
          '--domain',
          domainName,
        ),
      };
    }
    // a sign-in belongs to the domain of the token that began it (not the token whose audit entries a test counts)
    for (const side of Object.values(sides)) {
      const signer = await cli('tokens', 'create', '--name', `signs in for ${side.name}`, '--domain', side.domain);
      const signIn = await sys.api(
        'POST',
        '/api/oauth/sessions',
        { provider: 'google', externalAccountId: side.external, returnTo: '/' },
        signer,
      );
      assert.equal(signIn.status, 201, signIn.raw.toString());
      side.signIn = signIn.body.id;
    }
    await sys.ok('POST', '/api/delivery-targets', { name: 'nobody uses it', kind: 'smtp', host: '127.0.0.1', port: 25 });
    const app = createApp({
      pool: sys.db.pool,
      keyring: null as never,
      workflows: null as never,
      networkPolicy: loopbackPolicy,
      limits: { maxBodyBytes: 1024, requestsPerMinute: 1 },
    });
    // a route with a middleware of its own is listed once per handler; the public ones need no token
    const unique = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path !== '/health' && r.path !== '/oauth/callback')
        .map((r) => `${r.method} ${r.path.replace(/(.)\/$/, '$1')}`),
    );
    for (const route of PUBLIC_DOCS_ROUTES) unique.delete(route);
    // every account's counts: for tokens not limited to some domains only (403 to these)
    unique.delete('GET /metrics');
    routes = [...unique].map((r) => ({ method: r.split(' ')[0], path: r.split(' ')[1] }));
    assert.ok(routes.length >= 30, `the app's routes: ${routes.length}`);
  });

  test("every route with the other domain's ids answers 404 exactly as a missing id does, and changes nothing", async () => {
    const before = await snapshot();
    const missing: Side = {
      ...sides.a,
      domain: MISSING_UUID,
      account: MISSING_UUID,
      external: MISSING_UUID,
      target: MISSING_UUID,
      held: '999999999',
      message: '999999999',
      signIn: MISSING_UUID,
    };
    let tried = 0;
    for (const [own, other] of [
      [sides.a, sides.b],
      [sides.b, sides.a],
    ]) {
      for (const route of routes.filter((r) => r.path.includes(':') && !UNSCOPED_ONLY.some((p) => r.path.startsWith(p)))) {
        const key = `${route.method} ${route.path}`;
        const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : (BODIES[key] ?? {});
        const res = await sys.api(route.method, fill(route.path, other), body, own.token);
        assert.equal(res.status, 404, `${key} with ${other.name}'s ids and ${own.name}'s token: ${res.raw.toString()}`);
        const absent = await sys.api(route.method, fill(route.path, missing), body, own.token);
        assert.equal(absent.status, 404, `${key} with a missing id`);
        assert.deepEqual(shape(res.body, idsOf(other)), shape(absent.body, idsOf(missing)), `${key}: answered as a missing id`);
        if (route.method === 'GET') {
          const mine = await sys.api('GET', fill(route.path, own), undefined, own.token);
          assert.notEqual(mine.status, 404, `${key} with its own ids is found: ${mine.raw.toString()}`);
        }
        tried++;
      }
    }
    assert.ok(tried >= 40, `${tried} routes tried`);
    assert.equal(await snapshot(), before, 'nothing changed');
  });

  test('every list shows only the domain’s own objects; a filter naming the other domain finds nothing', async () => {
    // the token itself, where the Temporal UI is, the provider presets and the installation's OAuth apps: about no domain's objects
    const notLists = new Set(['/api/me', '/api/ui-config', '/api/providers', '/api/oauth/apps']);
    const lists = routes.filter((r) => r.method === 'GET' && !r.path.includes(':') && !notLists.has(r.path));
    for (const [own, other] of [
      [sides.a, sides.b],
      [sides.b, sides.a],
    ]) {
      for (const { path: list } of lists) {
        const res = await sys.api('GET', list, undefined, own.token);
        if (list === '/api/audit' || UNSCOPED_ONLY.includes(list)) {
          assert.equal(res.status, 403, `${list} names every domain’s objects: unscoped admin tokens only`);
          continue;
        }
        assert.equal(res.status, 200, list);
        const text = res.raw.toString();
        for (const id of [other.domain, other.account, other.second, other.external, other.target]) {
          assert.ok(!text.includes(id), `${list} shows nothing of ${other.name}`);
        }
        assert.ok(!text.includes(`"id":"${other.held}"`), `${list} shows no quarantined message of ${other.name}`);
        assert.ok(
          [own.domain, own.account, own.external, own.target].some((id) => text.includes(id)),
          `${list} shows ${own.name}'s objects: ${text}`,
        );
      }
      for (const [filter, id] of [
        ['/api/accounts?domainId=', other.domain],
        ['/api/external-accounts?ownerAccountId=', other.account],
        ['/api/quarantine?externalAccountId=', other.external],
      ]) {
        const res = await sys.api('GET', filter + id, undefined, own.token);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, (await sys.api('GET', filter + MISSING_UUID, undefined, own.token)).body, `${filter}: as a missing id`);
      }
      assert.deepEqual(
        (await sys.api('GET', '/api/domains', undefined, own.reader)).body.domains.map((d: { id: string }) => d.id),
        [own.domain],
        'a read-only token limited to the domain too',
      );
    }
    const all = (await sys.ok('GET', '/api/domains')).domains.map((d: { id: string }) => d.id);
    assert.ok(all.includes(sides.a.domain) && all.includes(sides.b.domain), 'an unscoped token sees every domain');
    // each side's domain target and APPEND target, and the one nobody uses
    assert.equal((await sys.ok('GET', '/api/delivery-targets')).deliveryTargets.length, 5);
  });

  test('creating in the other domain, naming its objects, or creating what belongs to no domain is refused and changes nothing', async () => {
    const { a, b } = sides;
    const before = await snapshot();
    const refused = async (method: string, path: string, body: unknown, status: number, field?: string) => {
      const res = await sys.api(method, path, body, a.token);
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.raw.toString()}`);
      if (field) assert.equal(res.body.field, field);
      return res.body as { message: string };
    };
    const remote = { name: 'r', host: '127.0.0.1', username: 'u', password: 'p', enabled: false };

    assert.match((await refused('POST', '/api/domains', { name: 'c.scope.test' }, 403)).message, /not limited to some domains/);
    const otherDomain = await refused('POST', '/api/accounts', { address: `new@${b.name}` }, 400, 'address');
    const noDomain = await refused('POST', '/api/accounts', { address: 'new@nowhere.test' }, 400, 'address');
    assert.equal(otherDomain.message.replace(b.name, 'X'), noDomain.message.replace('nowhere.test', 'X'), 'as a missing domain');

    const owner = await refused('POST', '/api/external-accounts', { ...remote, ownerAccountId: b.account }, 400, 'ownerAccountId');
    const noOwner = await refused('POST', '/api/external-accounts', { ...remote, ownerAccountId: MISSING_UUID }, 400, 'ownerAccountId');
    assert.equal(owner.message.replace(b.account, 'X'), noOwner.message.replace(MISSING_UUID, 'X'), 'as a missing owner');
    await refused(
      'POST',
      '/api/external-accounts',
      { ...remote, ownerAccountId: a.account, forwardToAccountId: b.second },
      400,
      'forwardToAccountId',
    );
    await refused(
      'POST',
      '/api/external-accounts',
      { ...remote, ownerAccountId: a.account, deliveryTarget: b.target },
      400,
      'deliveryTarget',
    );
    await refused('PATCH', `/api/external-accounts/${a.external}`, { forwardToAccountId: b.account }, 400, 'forwardToAccountId');
    await refused('PATCH', `/api/external-accounts/${a.external}`, { deliveryTarget: b.target }, 400, 'deliveryTarget');
    await refused('PATCH', `/api/domains/${a.domain}`, { deliveryTargetId: b.target }, 400, 'deliveryTargetId');

    // delivery targets are shared: a limited token sees those its domain uses and changes none
    assert.equal((await sys.api('GET', `/api/delivery-targets/${a.target}`, undefined, a.token)).status, 200);
    await refused('POST', '/api/delivery-targets', { name: 'mine', kind: 'smtp', host: '127.0.0.1' }, 403);
    await refused('PATCH', `/api/delivery-targets/${a.target}`, { maxConnections: 2 }, 403);
    await refused('DELETE', `/api/delivery-targets/${a.target}`, undefined, 403);
    assert.equal(await snapshot(), before, 'nothing changed');

    // its own: allowed
    const mine = await sys.api(
      'POST',
      '/api/external-accounts',
      { ...remote, name: 'own', ownerAccountId: a.account, forwardToAccountId: a.second, deliveryTarget: a.target },
      a.token,
    );
    assert.equal(mine.status, 201, mine.raw.toString());
    assert.equal((await sys.api('POST', '/api/accounts', { address: `third@${a.name}` }, a.token)).status, 201);
    assert.equal((await sys.api('GET', `/api/external-accounts/${mine.body.id}`, undefined, b.token)).status, 404);
    await sys.ok('DELETE', `/api/external-accounts/${mine.body.id}`, undefined, 204);
  });

  test('message bodies need messages:read: a read-only token gets 403 unless it was created with it', async () => {
    const raws = routes.filter((r) => r.method === 'GET' && r.path.endsWith('/raw')).map((r) => r.path);
    assert.deepEqual(raws.sort(), ['/api/accounts/:id/messages/:messageId/raw', '/api/quarantine/:id/raw']);
    const plainReader = await sys.createToken('read', 'unscoped reader');
    for (const side of Object.values(sides)) {
      for (const route of raws) {
        const path = fill(route, side);
        for (const token of [side.reader, plainReader]) {
          const refused = await sys.api('GET', path, undefined, token);
          assert.equal(refused.status, 403, `${path} read-only`);
          assert.match(refused.body.message, /messages:read/);
        }
        for (const token of [side.bodiesReader, side.token, sys.adminToken]) {
          const res = await sys.api('GET', path, undefined, token);
          assert.equal(res.status, 200, path);
          assert.ok(res.raw.equals(side.raw), 'the bytes as stored');
        }
        const other = side === sides.a ? sides.b : sides.a;
        assert.equal((await sys.api('GET', fill(route, other), undefined, side.bodiesReader)).status, 404, 'the other domain’s: 404');
      }
      assert.equal((await sys.api('GET', `/api/quarantine/${side.held}`, undefined, side.reader)).status, 200, 'the metadata is readable');
    }
  });

  test("the audit log records a limited token's changes under its id; the CLI lists each token's limits", async () => {
    const { a } = sides;
    const tokenId = a.token.split('_')[1];
    assert.equal((await sys.api('PATCH', `/api/accounts/${a.second}`, { enabled: false }, a.token)).status, 200);
    assert.equal((await sys.api('PATCH', `/api/accounts/${a.second}`, { enabled: true }, a.token)).status, 200);
    const { entries } = await sys.ok('GET', '/api/audit');
    const own = entries.filter((e: { tokenId: string }) => e.tokenId === tokenId).reverse();
    assert.deepEqual(
      own.map((e: { action: string; object: string }) => [e.action, e.object]),
      [
        ['POST /api/external-accounts', own[0].object],
        ['POST /api/accounts', own[1].object],
        ['PATCH /api/accounts/:id', `/api/accounts/${a.second}`],
        ['PATCH /api/accounts/:id', `/api/accounts/${a.second}`],
      ],
      'its changes, and none of its refused attempts',
    );
    assert.deepEqual(own[2].fields, ['enabled']);

    const listed = JSON.parse(await cli('tokens', 'list', '--json')) as {
      id: string;
      scope: string;
      messagesRead: boolean;
      domains: { id: string; name: string }[] | null;
    }[];
    const byId = (token: string) => listed.find((t) => t.id === token.split('_')[1]);
    assert.deepEqual(byId(a.token), { ...byId(a.token), scope: 'admin', messagesRead: true, domains: [{ id: a.domain, name: a.name }] });
    assert.deepEqual(byId(a.reader), { ...byId(a.reader), scope: 'read', messagesRead: false });
    assert.equal(byId(a.bodiesReader)?.messagesRead, true);
    assert.equal(byId(sys.adminToken)?.domains, null);
    const text = await cli('tokens', 'list');
    assert.match(text, /SCOPE +DOMAINS/);
    assert.match(text, new RegExp(`body reader of a +read\\+messages:read +${a.name.replace(/\./g, '\\.')}`));
    assert.match(text, /test admin +admin\+messages:read +all/);
    const unknown = await run(process.execPath, [CLI, 'tokens', 'create', '--name', 'x', '--domain', 'nosuch.test'], {
      env: cliEnv(),
    }).catch((err: { code: number; stderr: string }) => err);
    assert.equal((unknown as { code: number }).code, 1);
    assert.match((unknown as { stderr: string }).stderr, /no local domain nosuch\.test/);
  });

  test("across domains: a limited token cannot deliver to every domain or route to others' targets, and sees no id of theirs", async () => {
    const { a, b } = sides;
    const pool = sys.db.pool;
    const remote = { name: 'r', host: '127.0.0.1', username: 'u', password: 'p', enabled: false };
    const refused = async (method: string, path: string, body: unknown, field: string): Promise<void> => {
      const res = await sys.api(method, path, body, a.token);
      assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${res.raw.toString()}`);
      assert.equal(res.body.field, field, `${method} ${path} ${JSON.stringify(body)}`);
    };
    const unused = (await sys.ok('GET', '/api/delivery-targets')).deliveryTargets.find((t: { name: string }) => t.name === 'nobody uses it')
      .id as string;
    const before = await snapshot();
    const everyDomain = { mimeRecipients: { enabled: true, allDomains: true } };
    await refused('POST', '/api/external-accounts', { ...remote, ownerAccountId: a.account, ...everyDomain }, 'mimeRecipients.allDomains');
    await refused('PATCH', `/api/external-accounts/${a.external}`, everyDomain, 'mimeRecipients.allDomains');
    for (const target of [unused, b.target]) {
      await refused('POST', '/api/external-accounts', { ...remote, ownerAccountId: a.account, deliveryTarget: target }, 'deliveryTarget');
      await refused('PATCH', `/api/external-accounts/${a.external}`, { deliveryTarget: target }, 'deliveryTarget');
      await refused('PATCH', `/api/domains/${a.domain}`, { deliveryTargetId: target }, 'deliveryTargetId');
    }
    assert.equal(await snapshot(), before, 'nothing changed');

    // an unlimited token's choices across domains: forward to b, deliver through b's target, to every domain
    const crossing = await sys.ok('POST', '/api/external-accounts', {
      ...remote,
      name: 'crossing',
      ownerAccountId: a.account,
      forwardToAccountId: b.second,
      deliveryTarget: b.target,
      ...everyDomain,
    });
    const raw = Buffer.from('Subject: to both\r\n\r\nbody\r\n');
    const held = (
      await pool.query<{ id: string }>(
        `INSERT INTO held_messages (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, local_folder,
                                    raw, size, content_hash, internal_date, envelope_from, state, reason, quarantined_at)
         VALUES ($1, '', '', 'crossing', 0, 'INBOX', $2, $3, 'hash', now(), 'sender@remote.test', 'quarantined', '550 refused', now())
         RETURNING id::text`,
        [crossing.id, raw, raw.length],
      )
    ).rows[0].id;
    await pool.query(
      "INSERT INTO held_recipients (held_message_id, account_id, state, response) VALUES ($1, $2, 'rejected', '550'), ($1, $3, 'rejected', '550')",
      [held, a.account, b.account],
    );
    // where it delivers stays the unlimited token's to change
    await refused('PATCH', `/api/external-accounts/${crossing.id}`, { deliveryTarget: a.target }, 'deliveryTarget');
    await refused('PATCH', `/api/external-accounts/${crossing.id}`, { deliveryTarget: 'store' }, 'deliveryTarget');
    await refused('PATCH', `/api/external-accounts/${crossing.id}`, { deliveryTarget: null }, 'deliveryTarget');
    // other fields it may change, and what the unlimited token chose stays
    const renamed = await sys.api('PATCH', `/api/external-accounts/${crossing.id}`, { name: 'renamed' }, a.token);
    assert.equal(renamed.status, 200, renamed.raw.toString());
    const stored = (
      await pool.query('SELECT forward_to_account_id, delivery_target_id, mime_all_domains FROM external_accounts WHERE id = $1', [
        crossing.id,
      ])
    ).rows[0];
    assert.deepEqual(stored, { forward_to_account_id: b.second, delivery_target_id: b.target, mime_all_domains: true });
    assert.equal(renamed.body.forwardToAccountId, null, "b's account is shown as absent");
    assert.equal(renamed.body.deliveryTarget, null, "b's target is shown as absent");

    // nothing a's tokens read names b's objects: every GET route, by id and in lists
    const bIds = [b.domain, b.account, b.second, b.external, b.target];
    const own: Side = { ...a, external: crossing.id, held };
    let read = 0;
    for (const route of routes.filter(
      (r) => r.method === 'GET' && !UNSCOPED_ONLY.some((p) => r.path.startsWith(p)) && r.path !== '/api/audit',
    )) {
      for (const token of [a.token, a.bodiesReader]) {
        const res = await sys.api('GET', fill(route.path, own), undefined, token);
        assert.ok(res.status < 300 || route.path.endsWith('/status'), `${route.path}: ${res.status} ${res.raw.toString()}`);
        const text = res.raw.toString();
        for (const id of bIds) assert.ok(!text.includes(id), `GET ${route.path} shows ${b.name}'s ${id}: ${text}`);
        assert.ok(!text.includes(`"id":"${b.held}"`), `GET ${route.path} shows ${b.name}'s quarantined message`);
        read++;
      }
    }
    assert.ok(read >= 24, `${read} answers read`);
    const quarantined = await sys.api('GET', `/api/quarantine/${held}`, undefined, a.token);
    assert.deepEqual(
      quarantined.body.recipients.map((r: { accountId: string }) => r.accountId),
      [a.account],
      "only a's recipient",
    );
    assert.equal((await sys.api('GET', `/api/delivery-targets/${b.target}`, undefined, a.token)).status, 404, "b's target is b's");

    // the unlimited token sees everything as set
    const full = await sys.ok('GET', `/api/external-accounts/${crossing.id}`);
    assert.equal(full.forwardToAccountId, b.second);
    assert.equal(full.deliveryTarget, b.target);
    assert.equal((await sys.ok('GET', `/api/quarantine/${held}`)).recipients.length, 2);
    await sys.ok('DELETE', `/api/external-accounts/${crossing.id}?discardQuarantine=true`, undefined, 204);
  });

  test('a token whose domains were all deleted sees nothing, not every domain', async () => {
    await sys.ok('POST', '/api/domains', { name: 'c.scope.test' });
    const token = await cli('tokens', 'create', '--name', 'admin of c', '--domain', 'c.scope.test');
    assert.equal((await sys.api('GET', '/api/domains', undefined, token)).body.domains.length, 1);
    const c = (await sys.api('GET', '/api/domains', undefined, token)).body.domains[0];
    assert.equal((await sys.api('DELETE', `/api/domains/${c.id}`, undefined, token)).status, 204, 'it may delete its own domain');
    for (const list of ['/api/domains', '/api/accounts', '/api/external-accounts', '/api/delivery-targets']) {
      const res = await sys.api('GET', list, undefined, token);
      assert.equal(res.status, 200);
      assert.deepEqual(Object.values(res.body)[0], [], list);
    }
    assert.equal((await sys.api('GET', `/api/domains/${sides.a.domain}`, undefined, token)).status, 404);
    assert.match(await cli('tokens', 'list'), /admin of c +admin\+messages:read +\S+ \(deleted\)/);
  });
});
