import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SpecChecker, type Spec } from './support/openapi-checker';
import { RequestGenerator, type ApiDocument } from './support/openapi-requests';
import { useTestSystem } from '../testkit/system';

const MISSING = '00000000-0000-4000-8000-000000000000';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

describe('requests generated from the served OpenAPI document', () => {
  // no worker: a status query of an account that exists would wait 5 s for one (503 by design)
  const sys = useTestSystem({ worker: false });
  let doc: ApiDocument & Spec;
  let checker: SpecChecker;

  before(async () => {
    const served = await sys.api('GET', '/api/openapi.json', undefined, null);
    assert.equal(served.status, 200);
    doc = served.body as ApiDocument & Spec;
    checker = new SpecChecker(doc);
  });

  /** One of everything a request can name, fresh for a round (the rounds before may have deleted theirs). */
  async function objects(round: number): Promise<{
    uuids: string[];
    numericIds: string[];
    account: string;
    domainName: string;
    targets: string[];
    appendTarget: string;
    linked: string;
    byKind: Record<string, string[]>;
  }> {
    const domainName = `round${round}.fuzz.test`;
    const domain = await sys.ok('POST', '/api/domains', { name: domainName });
    const empty = await sys.ok('POST', '/api/domains', { name: `empty${round}.fuzz.test` });
    const account = await sys.ok('POST', '/api/accounts', { address: `owner@${domainName}` });
    const spareAccount = await sys.ok('POST', '/api/accounts', { address: `spare@${domainName}` });
    const target = await sys.ok('POST', '/api/delivery-targets', { name: `target ${round}`, kind: 'lmtp', host: '127.0.0.1', port: 24 });
    // in use: deleting it is refused, so it stays for the other requests
    await sys.ok('PATCH', `/api/domains/${domain.id}`, { deliveryTargetId: target.id });
    const spareTarget = await sys.ok('POST', '/api/delivery-targets', {
      name: `spare ${round}`,
      kind: 'smtp',
      host: '127.0.0.1',
      port: 25,
    });
    const external = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: account.id,
      name: `remote ${round}`,
      host: '127.0.0.1',
      username: 'u',
      password: 'p',
      enabled: false,
    });
    const oauth = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: account.id,
      name: `oauth ${round}`,
      host: '127.0.0.1',
      username: 'u',
      authMethod: 'xoauth2',
      oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', refreshToken: 'r' },
      enabled: false,
    });
    // a local account linked to its own mailbox behind an APPEND target that logs in with OAuth2
    const linked = await sys.ok('POST', '/api/accounts', { address: `linked@${domainName}` });
    const appendTarget = await sys.ok('POST', '/api/delivery-targets', {
      name: `append ${round}`,
      kind: 'imap',
      host: '127.0.0.1',
      port: 143,
      imapLogin: 'oauth',
    });
    const spareAppendTarget = await sys.ok('POST', '/api/delivery-targets', {
      name: `spare append ${round}`,
      kind: 'imap',
      host: '127.0.0.1',
      port: 143,
      imapLogin: 'oauth',
    });
    await sys.ok('PUT', `/api/accounts/${linked.id}/append-login`, {
      deliveryTargetId: appendTarget.id,
      username: `linked@${domainName}`,
      oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', refreshToken: 'r' },
    });
    await sys.ok('PUT', '/api/oauth/apps/google', { clientId: `fuzz ${round}`, clientSecret: 'secret' });
    const signIn = await sys.ok('POST', '/api/oauth/sessions', { provider: 'google', externalAccountId: oauth.id, returnTo: '/' });
    const hook = await sys.ok('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['mail.delivered'] });
    const spareHook = await sys.ok('POST', '/api/webhooks', { url: 'http://127.0.0.1:9/spare', events: ['mail.delivered'] });
    const raw = Buffer.from('Subject: fuzz\r\n\r\nbody\r\n');
    const pool = sys.db.pool;
    const message = (
      await pool.query<{ id: string }>(
        "INSERT INTO messages (account_id, raw, size, subject) VALUES ($1, $2, $3, 'fuzz') RETURNING id::text",
        [account.id, raw, raw.length],
      )
    ).rows[0].id;
    // quarantined messages of an owner no generated request names, several of them: a DELETE of the
    // owner, or a discard of every one before the first retry, would leave retry nothing but 404s
    const keeper = await sys.ok('POST', '/api/accounts', { address: `keeper@${domainName}` });
    const keeperRemote = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: keeper.id,
      name: `keeper ${round}`,
      host: '127.0.0.1',
      username: 'k',
      password: 'p',
      enabled: false,
    });
    const held: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = (
        await pool.query<{ id: string }>(
          `INSERT INTO held_messages (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, local_folder,
                                      raw, size, content_hash, internal_date, envelope_from, state, reason, quarantined_at)
           VALUES ($1, '', '', $4, 0, 'INBOX', $2, $3, 'hash', now(), 'sender@remote.test', 'quarantined', '550 refused', now())
           RETURNING id::text`,
          [keeperRemote.id, raw, raw.length, `held${i}`],
        )
      ).rows[0].id;
      await pool.query("INSERT INTO held_recipients (held_message_id, account_id, state, response) VALUES ($1, $2, 'rejected', '550')", [
        id,
        keeper.id,
      ]);
      held.push(id);
    }
    return {
      uuids: [
        domain.id,
        empty.id,
        account.id,
        spareAccount.id,
        linked.id,
        target.id,
        spareTarget.id,
        appendTarget.id,
        spareAppendTarget.id,
        external.id,
        oauth.id,
        hook.id,
        spareHook.id,
      ],
      numericIds: [message, ...held],
      account: account.id,
      domainName,
      targets: [target.id, appendTarget.id],
      appendTarget: appendTarget.id,
      linked: linked.id,
      byKind: {
        '/api/domains/': [domain.id, empty.id],
        // not the linked one: a DELETE of it would leave its login's routes nothing but 404s
        '/api/accounts/': [account.id, spareAccount.id],
        // not the linked login's: deleting it deletes the login
        '/api/delivery-targets/': [target.id, spareTarget.id, spareAppendTarget.id],
        '/api/external-accounts/': [external.id, oauth.id],
        '/api/webhooks/': [hook.id, spareHook.id],
        '/api/oauth/sessions/': [signIn.id],
        '/api/quarantine/': held,
        messageId: [message],
      },
    };
  }

  test('no answer is a 5xx and every answer is one the document lists, with a body valid against it', async () => {
    const seen = new Map<string, Map<number, number>>();
    const rounds = [
      { mistakes: false, runs: 500 },
      { mistakes: true, runs: 700 },
      { mistakes: false, runs: 500 },
      { mistakes: true, runs: 700 },
    ];
    for (const [round, { mistakes, runs }] of rounds.entries()) {
      const known = await objects(round);
      const generator = new RequestGenerator(doc, {
        uuids: known.uuids,
        numericIds: known.numericIds,
        byName: {
          host: fc.constantFrom('127.0.0.1', 'localhost', '::1', '192.0.2.1'),
          address: fc.stringMatching(/^[a-z0-9]{1,12}$/).map((local) => `${local}@${known.domainName}`),
          ownerAccountId: fc.constant(known.account),
          url: fc.constantFrom('http://127.0.0.1:9/hook', 'https://localhost/hook'),
          deliveryTarget: fc.constantFrom('store', ...known.uuids),
          deliveryTargetId: fc.constantFrom(...known.targets),
          tokenEndpoint: fc.constant('http://127.0.0.1:9/token'),
          provider: fc.constantFrom('custom', 'google'),
          discardQuarantine: fc.constant('false'),
        },
        bases: { 'POST /api/external-accounts': { password: 'p' }, 'POST /api/delivery-targets': { host: '127.0.0.1' } },
        fixed: {
          // the owner must exist; a preset's `provider` shares its name with the OAuth one drawn above, which no preset is
          'POST /api/external-accounts': { ownerAccountId: known.account, provider: undefined },
          // a Google or Microsoft token endpoint cannot be resolved here, and only one target logs in with OAuth2
          'PUT /api/accounts/{id}/append-login': {
            deliveryTargetId: known.appendTarget,
            oauth: { provider: 'custom', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'c', refreshToken: 'r' },
          },
        },
        pathIds: (template, name) =>
          name === 'messageId'
            ? known.byKind.messageId
            : // one account has a login to read, replace and delete
              template.endsWith('/append-login')
              ? [known.linked]
              : (Object.entries(known.byKind).find(([prefix]) => template.startsWith(prefix))?.[1] ?? []),
      });
      await fc.assert(
        fc.asyncProperty(generator.request(mistakes), async (req) => {
          // the accounts' workflows run without a worker: a status would wait 5 s for one
          const url = req.template.endsWith('/status') ? req.url.replace(/[0-9a-f-]{36}/, MISSING) : req.url;
          const res = await sys.api(req.method, url, req.body);
          const key = `${req.method} ${req.template}`;
          const statuses = seen.get(key) ?? new Map<number, number>();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          seen.set(key, statuses);
          const what = `${req.method} ${url} ${JSON.stringify(req.body)?.slice(0, 500)} → ${res.status} ${res.raw.toString().slice(0, 300)}`;
          assert.ok(res.status < 500, what);
          // the provider's callback answers a browser, with a page
          if (res.status === 400 && req.template !== '/oauth/callback')
            assert.equal(typeof res.body.field, 'string', `${what}: names the field`);
          checker.check(req.method, url, res);
          assert.deepEqual(checker.takeProblems(), [], what);
        }),
        { numRuns: runs, endOnFailure: true, includeErrorInReport: true },
      );
    }
    const table = [...seen].map(([op, statuses]) => `${op}: ${JSON.stringify(Object.fromEntries(statuses))}`).sort();
    console.log(`generated requests by operation and status:\n${table.join('\n')}`);
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const op of operations) {
      const statuses = seen.get(op);
      assert.ok(statuses, `${op} was requested`);
      // without a worker a status is 503 (test/openapi.test.ts sees both answers)
      if (op.endsWith('/status')) continue;
      // Sign-ins need what random bodies seldom hold together (exactly one of three fields, a configured
      // app, a flow it offers) or what only a provider issues (its state and code): test/openapi.test.ts
      // and test/oauth-sign-in.test.ts (against a real authorization server) reach their work.
      if (op === 'GET /oauth/callback' || op.startsWith('POST /api/oauth/sessions')) continue;
      // past the checks and the lookup: done, or refused for the object's state (a retried message is no longer in quarantine)
      assert.ok(
        [...statuses.keys()].some((s) => s !== 400 && s !== 404),
        `${op} reached its handler's work at least once: ${JSON.stringify(Object.fromEntries(statuses))}`,
      );
    }
  });

  test('a method the path does not have answers 405 with Allow listing those it has', async () => {
    const fill = (template: string): string =>
      template.replace(/\{(\w+)\}/g, (_, name: string) =>
        template.startsWith('/api/quarantine') || name === 'messageId' ? '999999999' : MISSING,
      );
    let tried = 0;
    for (const [template, ops] of Object.entries(doc.paths)) {
      const has = Object.keys(ops).map((m) => m.toUpperCase());
      const allow = [...has, ...(has.includes('GET') ? ['HEAD'] : [])].sort().join(', ');
      for (const method of METHODS.filter((m) => !has.includes(m))) {
        const res = await sys.api(method, fill(template), method === 'GET' || method === 'OPTIONS' ? undefined : {});
        assert.equal(res.status, 405, `${method} ${template}: ${res.raw.toString()}`);
        assert.equal(res.headers.get('allow'), allow, `${method} ${template}`);
        assert.equal(res.body.error, 'method_not_allowed');
        tried++;
      }
    }
    assert.ok(tried >= 60, `${tried} requests`);
    assert.equal((await sys.api('DELETE', '/api/no-such-thing')).status, 404, 'a path no route has: 404');
    assert.equal((await sys.api('PUT', '/api/domains', {}, null)).status, 401, 'the token first');
  });
});
