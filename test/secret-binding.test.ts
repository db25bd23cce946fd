import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { accountSecretBinding, targetPasswordBinding } from '../core/secret-binding';
import { getStoredTarget, getTarget } from '../db/delivery-targets';
import { getExternalAccountSettings, getStoredExternalAccount, secretBinding } from '../db/external-accounts';
import { migrate, MIGRATIONS_DIR } from '../db/migrate';
import { createPool } from '../db/pool';
import { resealSecrets, type SecretName } from '../db/secrets';
import { loadKeyring } from '../secrets/keyring';
import { seal } from '../secrets/secret-box';
import { domainWithTarget } from './support/delivered';
import { addUser, masterUser, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { OAuthProvider } from './support/oauth-provider';
import { carries, startRecordingListener, type RecordingListener } from './support/recording-listener';
import { useTestSystem } from '../testkit/system';

const CLI = path.resolve(__dirname, '../cli/main.js');
const MISBOUND = 'the stored password was given for another server; enter it again';

/** An HTTP server that records each request's body and answers 400: a token endpoint a secret must not reach. */
async function recordingTokenEndpoint(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('a secret goes only where it was given', () => {
  const sys = useTestSystem();
  const listeners: RecordingListener[] = [];
  let provider: OAuthProvider;
  before(async () => {
    provider = await OAuthProvider.start();
  });
  after(async () => {
    for (const listener of listeners) await listener.close();
    await provider.close();
  });
  const listen = async (speak: 'pop3' | 'imap'): Promise<RecordingListener> => {
    const listener = await startRecordingListener(speak);
    listeners.push(listener);
    return listener;
  };

  /** Connect Now, and the status once the cycle it started has finished. */
  const connectNow = async (externalId: string) => {
    const cycles = (await sys.status(externalId)).counts.cycles;
    await sys.ok('POST', `/api/external-accounts/${externalId}/connect-now`, undefined, 202);
    return sys.waitForCycles(externalId, cycles + 1);
  };

  test('re-pointing an account without its password is refused (400 naming password), and nothing reaches the new server; with a new password only that one goes there', async () => {
    const user = await addUser('bp');
    await saveMessages(user, [buildMessage({ subject: 'first' })]);
    const owner = await sys.localAccount('owner@binding.test');
    const account = await sys.pop3Account(owner, user);
    assert.equal((await sys.waitForCycles(account.id, 1)).lastError, null);
    const listener = await listen('pop3');

    const moves: Record<string, unknown>[] = [
      { port: listener.port, tlsMode: 'disabled' },
      { host: 'localhost' },
      { port: testEnv.pop3sPort() },
      { tlsMode: 'direct' },
      { tlsMode: 'disabled' },
      { username: `${user.name}-other` },
      { allowInvalidCertificates: true },
      { tlsCa: null },
    ];
    for (const move of moves) {
      const res = await sys.api('PATCH', `/api/external-accounts/${account.id}`, move);
      assert.equal(res.status, 400, `${JSON.stringify(move)}: ${res.raw.toString()}`);
      assert.equal(res.body.field, 'password', JSON.stringify(move));
      assert.match(res.body.message, /must be given again/);
    }
    const unchanged = await sys.ok('GET', `/api/external-accounts/${account.id}`);
    assert.equal(unchanged.port, testEnv.pop3Port(), 'a refused change changed nothing');
    assert.equal(unchanged.passwordSet, true);
    // what does not say where the password goes needs no password
    await sys.ok('PATCH', `/api/external-accounts/${account.id}`, { name: 'renamed', intervalMinutes: 45 });

    await saveMessages(user, [buildMessage({ subject: 'second' })]);
    const status = await connectNow(account.id);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    assert.equal((await sys.storedMessages(owner.id)).length, 2, 'still collecting from where the password was given');
    assert.equal(listener.connections, 0);

    // The password given with the move goes to the new server, and the old one never does. The
    // account may still be in a cycle (the one just counted, or one queued behind it): 409, try again.
    const move = { port: listener.port, tlsMode: 'disabled', password: 'given-for-the-listener' };
    const taken = await waitFor(
      'the move, once no cycle runs',
      async () => {
        const res = await sys.api('PATCH', `/api/external-accounts/${account.id}`, move);
        return res.status === 409 ? null : res;
      },
      30_000,
      200,
    );
    assert.equal(taken.status, 200, taken.raw.toString());
    const moved = await connectNow(account.id);
    assert.equal(moved.lastError?.kind, 'auth', JSON.stringify(moved.lastError));
    assert.ok(listener.connections > 0);
    assert.ok(carries(listener.received(), 'given-for-the-listener'), 'the new password was sent to the new server');
    assert.ok(!carries(listener.received(), user.password), 'the old password never reached it');
  });

  test('defense in depth: a row re-pointed in SQL (after a key rotation) sends nothing and says why; a forged binding does not open', async () => {
    const user = await addUser('bs');
    await saveMessages(user, [buildMessage({ subject: 'first' })]);
    const owner = await sys.localAccount('owner@binding-sql.test');
    const account = await sys.pop3Account(owner, user);
    assert.equal((await sys.waitForCycles(account.id, 1)).lastError, null);
    const boundTo = async (): Promise<string> =>
      (
        await sys.db.pool.query<{ bound_to: string }>(
          "SELECT bound_to FROM external_account_secrets WHERE external_account_id = $1 AND name = 'password'",
          [account.id],
        )
      ).rows[0].bound_to;
    const before = await boundTo();

    // Rotating the key seals every secret again, each with its binding.
    const report = (
      await promisify(execFile)(process.execPath, [CLI, 'secrets', 'rotate'], {
        env: { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile },
      })
    ).stdout;
    assert.match(report, /re-sealed \d+ secret\(s\)/);
    assert.equal(await boundTo(), before, 'the rotation kept the binding');
    await saveMessages(user, [buildMessage({ subject: 'second' })]);
    assert.equal((await connectNow(account.id)).lastError, null, 'the re-sealed password opens where it was given');

    const listener = await listen('pop3');
    await sys.db.pool.query("UPDATE external_accounts SET port = $2, tls_mode = 'disabled' WHERE id = $1", [account.id, listener.port]);
    const refused = await connectNow(account.id);
    assert.equal(refused.lastError?.message, MISBOUND);
    assert.equal(listener.connections, 0, 'no connection to where the row now points');

    // Writing the new place into the binding too: the seal was made for the old one and does not open.
    const settings = await sys.ok('GET', `/api/external-accounts/${account.id}`);
    const forged = accountSecretBinding('password', settings, null);
    await sys.db.pool.query("UPDATE external_account_secrets SET bound_to = $2 WHERE external_account_id = $1 AND name = 'password'", [
      account.id,
      forged,
    ]);
    const forgedStatus = await connectNow(account.id);
    assert.equal(forgedStatus.lastError?.message, MISBOUND);
    assert.equal(listener.connections, 0);
    assert.ok(!carries(listener.received(), user.password));

    // Given again, the password is bound to where the account points now.
    await sys.db.pool.query('UPDATE external_accounts SET port = $2, tls_mode = $3 WHERE id = $1', [
      account.id,
      testEnv.pop3Port(),
      'detect',
    ]);
    await sys.ok('PATCH', `/api/external-accounts/${account.id}`, { password: user.password });
    assert.equal((await connectNow(account.id)).lastError, null);
  });

  test('a delivery target: re-pointed without its password is refused; re-pointed in SQL, it sends nothing and holds the mail with the reason', async () => {
    const master = await masterUser();
    const listener = await listen('imap');
    const target = {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'master',
      username: master.name,
      password: master.password,
    };
    const { targetId } = await domainWithTarget(sys, 'bound-target.test', target);
    for (const move of [{ port: listener.port }, { host: 'localhost' }, { tlsMode: 'direct' }, { username: 'someone' }]) {
      const res = await sys.api('PATCH', `/api/delivery-targets/${targetId}`, move);
      assert.equal(res.status, 400, `${JSON.stringify(move)}: ${res.raw.toString()}`);
      assert.equal(res.body.field, 'password');
    }
    await sys.ok('PATCH', `/api/delivery-targets/${targetId}`, { maxConnections: 3 });

    const source = await addUser('bts');
    const destination = await addUser('btd');
    await saveMessages(source, [buildMessage({ subject: 'through the target' })]);
    const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `${destination.name}@bound-target.test` });
    const external = await sys.pop3Account(owner, source, { deletePolicy: 'never' });
    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.delivered, 1, JSON.stringify(first));

    await sys.db.pool.query('UPDATE delivery_targets SET port = $2, updated_at = now() WHERE id = $1', [targetId, listener.port]);
    await saveMessages(source, [buildMessage({ subject: 'held' })]);
    const held = await connectNow(external.id);
    assert.equal(held.delivery.backlog, 1, JSON.stringify(held));
    assert.ok(held.delivery.lastError?.message.endsWith(`: ${MISBOUND}`), JSON.stringify(held.delivery.lastError));
    assert.equal(listener.connections, 0, 'no connection to where the target now points');
    assert.ok(!carries(listener.received(), master.password));
  });

  test('OAuth2: a new token endpoint or server needs the client secret and refresh token again; only the new ones reach it', async () => {
    const user = await addUser('bo');
    await saveMessages(user, [buildMessage({ subject: 'first' })]);
    const owner = await sys.localAccount('owner@binding-oauth.test');
    const refreshToken = await provider.grant(user.name);
    const account = await sys.imapAccount(owner, user, {
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
    assert.equal((await sys.waitForCycles(account.id, 1)).lastError, null);
    const endpoint = await recordingTokenEndpoint();
    const imapListener = await listen('imap');
    try {
      const refusals: [Record<string, unknown>, string][] = [
        [{ oauth: { tokenEndpoint: endpoint.url } }, 'oauth.clientSecret'],
        [{ oauth: { clientId: 'another-client' } }, 'oauth.clientSecret'],
        [{ oauth: { tokenEndpoint: endpoint.url, clientSecret: provider.clientSecret } }, 'oauth.refreshToken'],
        [{ port: imapListener.port, tlsMode: 'disabled' }, 'oauth.refreshToken'],
      ];
      for (const [move, field] of refusals) {
        const res = await sys.api('PATCH', `/api/external-accounts/${account.id}`, move);
        assert.equal(res.status, 400, `${JSON.stringify(move)}: ${res.raw.toString()}`);
        assert.equal(res.body.field, field, JSON.stringify(move));
      }
      provider.invalidateAccessTokens();
      assert.equal((await connectNow(account.id)).lastError, null);

      // re-pointed in SQL: neither the token endpoint nor the server gets anything
      await sys.db.pool.query('UPDATE external_accounts SET oauth_token_endpoint = $2 WHERE id = $1', [account.id, endpoint.url]);
      const refused = await connectNow(account.id);
      assert.match(
        refused.lastError?.message ?? '',
        /^the stored OAuth2 (client secret|refresh token) was given for another server; enter it again$/,
      );
      assert.equal(endpoint.bodies.length, 0);
      await sys.db.pool.query('UPDATE external_accounts SET oauth_token_endpoint = $2 WHERE id = $1', [account.id, provider.tokenEndpoint]);

      await sys.ok('PATCH', `/api/external-accounts/${account.id}`, {
        oauth: { tokenEndpoint: endpoint.url, clientSecret: 'cs-for-the-recorder', refreshToken: 'rt-for-the-recorder' },
      });
      await connectNow(account.id);
      await waitFor('a refresh at the new token endpoint', () => endpoint.bodies.length > 0);
      const sent = endpoint.bodies.join('\n');
      assert.match(sent, /rt-for-the-recorder/);
      for (const old of [refreshToken, provider.clientSecret, ...provider.issued])
        assert.ok(!sent.includes(old), 'an old secret at the new endpoint');
      assert.equal(imapListener.connections, 0);
    } finally {
      await endpoint.close();
    }
  });

  test('migration 019 binds the secrets stored before it to where their account or target points, as the code computes it; the first start seals the binding in', async (t) => {
    // a database migrated up to 018, with secrets sealed the way they were before
    const name = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: testEnv.databaseUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(testEnv.databaseUrl());
    url.pathname = `/${name}`;
    const pool = createPool(url.toString());
    const older = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    t.after(async () => {
      await pool.end();
      await rm(older, { recursive: true, force: true });
      const again = new pg.Client({ connectionString: testEnv.databaseUrl() });
      await again.connect();
      await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await again.end();
    });
    for (const file of await readdir(MIGRATIONS_DIR)) {
      if (file < '019') await copyFile(path.join(MIGRATIONS_DIR, file), path.join(older, file));
    }
    await migrate(pool, older);
    const keyring = loadKeyring({ kind: 'file', path: sys.keyFile });
    const key = keyring.active();
    const q = async (sql: string, params: unknown[] = []): Promise<string> => (await pool.query<{ id: string }>(sql, params)).rows[0]?.id;
    const domain = await q("INSERT INTO domains (name) VALUES ('migrated.test') RETURNING id");
    const owner = await q("INSERT INTO accounts (domain_id, address) VALUES ($1, 'owner@migrated.test') RETURNING id", [domain]);
    const odd = `o'dd "user" \\ é ✓ ${String.fromCharCode(1)}\t/`;
    const passwordAccount = await q(
      `INSERT INTO external_accounts (owner_account_id, name, protocol, host, port, tls_mode, tls_ca, allow_invalid_certificates, username)
       VALUES ($1, 'imap', 'imap', 'Mail.Example.test', 993, 'direct', $2, true, $3) RETURNING id`,
      [owner, '-----BEGIN CERTIFICATE-----\nü\n-----END CERTIFICATE-----\n', odd],
    );
    const oauthAccount = await q(
      `INSERT INTO external_accounts (owner_account_id, name, protocol, host, port, tls_mode, username, auth_method,
                                      oauth_provider, oauth_token_endpoint, oauth_client_id)
       VALUES ($1, 'oauth', 'pop3', 'pop.example.test', 110, 'detect', 'user@example.test', 'xoauth2',
               'custom', 'https://login.example.test/token?a="b"', 'client \\ id') RETURNING id`,
      [owner],
    );
    const targetId = await q(
      `INSERT INTO delivery_targets (name, kind, host, port, tls_mode, username) VALUES ('smtp', 'smtp', 'smtp.example.test', 587, 'detect', $1)
       RETURNING id`,
      [odd],
    );
    const legacy = async (table: string, owner_: string, ownerId: string, secretName: string, value: string) =>
      pool.query(`INSERT INTO ${table} (${owner_}, name, key_id, sealed) VALUES ($1, $2, $3, $4)`, [
        ownerId,
        secretName,
        key.id,
        seal(key, value, `${table === 'delivery_target_secrets' ? 'delivery_target' : 'external_account'}:${ownerId}:${secretName}`),
      ]);
    await legacy('external_account_secrets', 'external_account_id', passwordAccount, 'password', 'pw-imap');
    for (const secretName of ['oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token']) {
      await legacy('external_account_secrets', 'external_account_id', oauthAccount, secretName, `v-${secretName}`);
    }
    await legacy('delivery_target_secrets', 'delivery_target_id', targetId, 'password', 'pw-smtp');

    assert.equal((await migrate(pool))[0], '019_secret_binding.sql');
    const bindings = async () =>
      (
        await pool.query<{ owner: string; name: string; bound_to: string; binding_sealed: boolean }>(
          `SELECT external_account_id AS owner, name, bound_to, binding_sealed FROM external_account_secrets
           UNION ALL SELECT delivery_target_id, name, bound_to, binding_sealed FROM delivery_target_secrets ORDER BY 1, 2`,
        )
      ).rows;
    const migrated = await bindings();
    assert.equal(migrated.length, 5);
    for (const row of migrated) {
      assert.equal(row.binding_sealed, false);
      const settings = await getExternalAccountSettings(pool, row.owner);
      const expected = settings
        ? secretBinding(settings, row.name as SecretName)
        : targetPasswordBinding((await getTarget(pool, row.owner))!);
      assert.equal(row.bound_to, expected, `${row.name} of ${row.owner}`);
    }
    const opened = await getStoredExternalAccount(pool, keyring, oauthAccount);
    assert.deepEqual(opened?.misboundSecrets, []);
    assert.equal(opened?.secrets.oauth_refresh_token, 'v-oauth_refresh_token');

    // what every process does at start-up: the binding goes into the seal, and nothing else changes
    assert.equal(await resealSecrets(pool, keyring, { onlyLegacy: true }), 5);
    const sealed = await bindings();
    assert.deepEqual(
      sealed.map((r) => [r.owner, r.name, r.bound_to]),
      migrated.map((r) => [r.owner, r.name, r.bound_to]),
    );
    assert.ok(sealed.every((r) => r.binding_sealed));
    assert.equal((await getStoredExternalAccount(pool, keyring, passwordAccount))?.secrets.password, 'pw-imap');
    assert.equal((await getStoredTarget(pool, keyring, targetId))?.password, 'pw-smtp');

    await pool.query("UPDATE external_accounts SET host = 'elsewhere.test' WHERE id = $1", [passwordAccount]);
    const moved = await getStoredExternalAccount(pool, keyring, passwordAccount);
    assert.deepEqual([moved?.secrets, moved?.misboundSecrets], [{}, ['password']]);
    await pool.query("UPDATE delivery_targets SET host = 'elsewhere.test' WHERE id = $1", [targetId]);
    await assert.rejects(getStoredTarget(pool, keyring, targetId), { message: MISBOUND });
  });
});
