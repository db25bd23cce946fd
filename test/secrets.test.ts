import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseKeys } from '../secrets/keyring';
import { addUser, caCertificate, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { OAuthProvider } from './support/oauth-provider';
import { unusedPort } from '../testkit/ports';
import { TEST_ALLOWED_NETWORKS } from '../testkit/network-policy';
import { useTestSystem } from '../testkit/system';
import { Receiver, signatureVerifies } from './support/webhook-receiver';

const CLI = path.resolve(__dirname, '../cli/main.js');
const API_MAIN = path.resolve(__dirname, '../api/main.js');

describe('secrets at rest and in logs', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });

  const cli = async (...args: string[]): Promise<string> =>
    (
      await promisify(execFile)(process.execPath, [CLI, ...args], {
        env: { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile },
      })
    ).stdout;

  const everything = async (): Promise<string> =>
    (
      await sys.db.pool.query<{ t: string }>(
        `SELECT string_agg(t, E'\\n') AS t FROM (
         SELECT row_to_json(e)::text AS t FROM external_accounts e
         UNION ALL SELECT row_to_json(s)::text FROM external_account_secrets s
         UNION ALL SELECT encode(sealed, 'escape') FROM external_account_secrets) x`,
      )
    ).rows[0].t;

  test('passwords and webhook secrets are sealed in Postgres, absent from history, logs and API answers; rotating the key keeps accounts and webhooks working', async (t) => {
    const pop3User = await addUser('sp');
    const imapUser = await addUser('si');
    await saveMessages(pop3User, [buildMessage({ subject: 'p1' })]);
    await saveMessages(imapUser, [buildMessage({ subject: 'i1' })]);
    const owner = await sys.localAccount('owner@secrets.test');
    const pop3 = await sys.pop3Account(owner, pop3User);
    const imap = await sys.imapAccount(owner, imapUser);
    const apop = await sys.pop3Account(owner, pop3User, { name: 'apop', authMethod: 'apop', deletePolicy: 'never' });
    for (const account of [pop3, imap, apop]) {
      assert.equal(account.passwordSet, true);
      assert.ok(!('password' in account), 'the API never shows a password');
      await sys.waitForCycles(account.id, 1);
    }
    assert.equal((await sys.storedMessages(owner.id)).length, 3, 'p1 through POP3 and APOP, i1 through IMAP');

    const firstKey = parseKeys(await readFile(sys.keyFile, 'utf8'), 'key file')[0].id;
    const dump = await everything();
    const passwords = [pop3User.password, imapUser.password];
    for (const password of passwords) assert.ok(!dump.includes(password), 'no password in clear in Postgres');
    const keyIds = await sys.db.pool.query<{ key_id: string }>('SELECT DISTINCT key_id FROM external_account_secrets');
    assert.deepEqual(
      keyIds.rows.map((r) => r.key_id),
      [firstKey],
    );

    const workerLog = sys.worker?.output() ?? '';
    assert.match(workerLog, /C: PASS \*\*\*\*/, 'the POP3 trace shows PASS, masked');
    assert.match(workerLog, /C: APOP \*\*\*\*/, 'the POP3 trace shows APOP, masked');
    assert.match(workerLog, /C: \S+ AUTHENTICATE PLAIN/, 'the IMAP trace shows the login');
    const saslPlain = Buffer.from(`\0${imapUser.name}\0${imapUser.password}`).toString('base64');
    assert.ok(!workerLog.includes(saslPlain), 'not even base64-encoded in the trace');
    for (const password of passwords) {
      assert.ok(!workerLog.includes(password), 'no password in the worker log, trace included');
      assert.ok(!sys.apiLog.join('\n').includes(password), 'no password in the API log');
      for (const account of [pop3, imap, apop])
        assert.ok(!(await sys.historyText(account.id)).includes(password), 'no password in history');
      const listed = await sys.api('GET', '/api/external-accounts');
      assert.ok(!listed.raw.toString().includes(password), 'no password in API answers');
    }

    // A webhook's signing secret is sealed too, and rotated with the others.
    const receiver = await Receiver.start();
    t.after(() => receiver.close());
    const hook = await sys.ok<{ id: string; secret: string }>('POST', '/api/webhooks', { url: receiver.url, events: ['mail.delivered'] });
    const hookSecret = async () =>
      (
        await sys.db.pool.query<{ key_id: string; sealed: Buffer }>('SELECT key_id, sealed FROM webhook_secrets WHERE webhook_id = $1', [
          hook.id,
        ])
      ).rows[0];
    const sealedBefore = await hookSecret();
    assert.equal(sealedBefore.key_id, firstKey);
    assert.ok(!sealedBefore.sealed.includes(Buffer.from(hook.secret)), 'the signing secret is not in clear');

    // Rotate: a new key first in the file, every secret re-sealed, the old key dropped.
    const report = await cli('secrets', 'rotate');
    assert.match(report, /re-sealed 4 secret\(s\)/, 'three passwords and the signing secret');
    const keys = parseKeys(await readFile(sys.keyFile, 'utf8'), 'key file');
    assert.equal(keys.length, 1, 'the old key is gone from the file');
    assert.notEqual(keys[0].id, firstKey);
    const rotated = await sys.db.pool.query<{ key_id: string }>('SELECT DISTINCT key_id FROM external_account_secrets');
    assert.deepEqual(
      rotated.rows.map((r) => r.key_id),
      [keys[0].id],
    );

    // The running worker reads the new key file and goes on collecting.
    await saveMessages(pop3User, [buildMessage({ subject: 'p2' })]);
    await saveMessages(imapUser, [buildMessage({ subject: 'i2' })]);
    for (const account of [pop3, imap]) {
      await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
      const status = await sys.waitForCycles(account.id, 2);
      assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    }
    assert.equal((await sys.storedMessages(owner.id)).length, 5);
    const sealedAfter = await hookSecret();
    assert.equal(sealedAfter.key_id, keys[0].id, 'the signing secret is re-sealed with the new key');
    assert.ok(!sealedAfter.sealed.equals(sealedBefore.sealed));
    const posts = await waitFor('a mail.delivered POST per account', () => receiver.requests.length >= 2 && receiver.requests);
    for (const post of posts) assert.ok(signatureVerifies(hook.secret, post), 'signed with the secret shown at creation, after rotation');
    // And a password changed through the API is sealed with the new key.
    await sys.ok('PATCH', `/api/external-accounts/${apop.id}`, { password: pop3User.password });
    const after = await sys.db.pool.query('SELECT 1 FROM external_account_secrets WHERE key_id <> $1', [keys[0].id]);
    assert.equal(after.rowCount, 0);
  });

  test('every log line of the worker and the API process at level trace, JSON and pretty: no password, OAuth secret or token', async (t) => {
    const provider = await OAuthProvider.start();
    const apiProcesses: ChildProcess[] = [];
    t.after(async () => {
      for (const p of apiProcesses) p.kill('SIGKILL');
      await provider.close();
    });
    /** The real API process (dist/api/main.js) on this test's database and task queue; its output and base URL. */
    const startApi = async (format: 'json' | 'pretty') => {
      const port = await unusedPort();
      const child = spawn(process.execPath, [API_MAIN], {
        env: {
          ...process.env,
          DATABASE_URL: sys.db.url,
          TEMPORAL_ADDRESS: testEnv.temporalAddress(),
          MAILPULL_TASK_QUEUE: sys.taskQueue,
          MAILPULL_SECRET_KEY_FILE: sys.keyFile,
          MAILPULL_ALLOWED_NETWORKS: TEST_ALLOWED_NETWORKS,
          API_HOST: '127.0.0.1',
          API_PORT: String(port),
          MAILPULL_LOG_LEVEL: 'trace',
          MAILPULL_LOG_FORMAT: format,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      apiProcesses.push(child);
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      await waitFor('the API process to listen', () => output.includes('API listening'), 60_000);
      const call = async (method: string, route: string, body?: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}${route}`, {
          method,
          headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      return { output: () => output, call };
    };
    await sys.worker?.stop();
    await sys.startWorker({ MAILPULL_PROTOCOL_TRACE: '1', MAILPULL_LOG_LEVEL: 'trace' });
    const api = await startApi('json');
    const prettyApi = await startApi('pretty');

    const [pop3User, oauthUser, wrongUser] = [await addUser('lp'), await addUser('lo'), await addUser('lw')];
    for (const user of [pop3User, oauthUser, wrongUser]) await saveMessages(user, [buildMessage()]);
    const owner = await sys.localAccount('logs@secrets.test');
    const refreshToken = await provider.grant(oauthUser.name);
    const wrongPassword = `wrong-${wrongUser.password}`;
    const common = { ownerAccountId: owner.id, host: '127.0.0.1', tlsMode: 'detect', tlsCa: await caCertificate() };
    const created = await Promise.all([
      api.call('POST', '/api/external-accounts', {
        ...common,
        name: 'password',
        protocol: 'pop3',
        port: testEnv.pop3Port(),
        username: pop3User.name,
        password: pop3User.password,
      }),
      prettyApi.call('POST', '/api/external-accounts', {
        ...common,
        name: 'oauth',
        protocol: 'imap',
        port: testEnv.imapPort(),
        username: oauthUser.name,
        authMethod: 'xoauth2',
        oauth: {
          provider: 'custom',
          tokenEndpoint: provider.tokenEndpoint,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          refreshToken,
        },
      }),
      api.call('POST', '/api/external-accounts', {
        ...common,
        name: 'wrong password',
        protocol: 'pop3',
        port: testEnv.pop3Port(),
        username: wrongUser.name,
        password: wrongPassword,
      }),
    ]);
    for (const res of created) assert.equal(res.status, 201, JSON.stringify(res.body));
    const [pop3, oauth, wrong] = created.map((r) => r.body.id as string);
    // a refused request carrying a secret, and a change of password
    assert.equal((await api.call('POST', '/api/external-accounts', { ...common, password: pop3User.password, port: 'x' })).status, 400);
    assert.equal((await prettyApi.call('PATCH', `/api/external-accounts/${wrong}`, { password: wrongPassword })).status, 200);

    for (const id of [pop3, oauth, wrong]) await sys.waitForCycles(id, 1);
    assert.equal((await sys.status(wrong)).lastError?.kind, 'auth');
    assert.equal((await sys.status(oauth)).lastError, null, JSON.stringify((await sys.status(oauth)).lastError));
    const worker = () => sys.worker?.output() ?? '';
    await waitFor('a cycle line per account', () => [pop3, oauth, wrong].every((id) => worker().includes(`"accountId":"${id}"`)));

    const lines = worker()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const notJson = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== 'object';
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson, [], 'the worker logs JSON lines only, the Temporal SDK included');
    assert.ok(
      lines.some((l) => l.includes('"component":"temporal"') && l.includes('"level":10')),
      "the Temporal SDK's trace lines are in it",
    );
    assert.match(api.output(), /"msg":"request"/, 'the API logged its requests');
    assert.match(prettyApi.output(), /DEBUG: \[api\] request/, 'readable lines from the pretty API');

    const xoauth2 = (token: string) => Buffer.from(`user=${oauthUser.name}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
    const secrets = [pop3User.password, wrongPassword, provider.clientSecret, refreshToken, ...provider.issued];
    assert.ok(provider.issued.length > 0, 'an access token was issued');
    const logs = { worker: worker(), api: api.output(), prettyApi: prettyApi.output() };
    for (const secret of [...secrets, ...provider.issued.map(xoauth2), sys.adminToken]) {
      for (const [name, text] of Object.entries(logs)) assert.ok(!text.includes(secret), `a secret in the ${name} log`);
      for (const id of [pop3, oauth, wrong]) assert.ok(!(await sys.historyText(id)).includes(secret), 'a secret in history');
    }
  });

  test('a password stored before encryption (migration 003) is sealed when the worker starts', async () => {
    const user = await addUser('sl');
    const owner = await sys.localAccount('legacy@secrets.test');
    const account = await sys.pop3Account(owner, user);
    await sys.db.pool.query(
      "UPDATE external_account_secrets SET key_id = 'plaintext', sealed = convert_to($2, 'UTF8') WHERE external_account_id = $1",
      [account.id, user.password],
    );
    await sys.worker?.stop();
    await sys.startWorker({ MAILPULL_PROTOCOL_TRACE: '1' });
    assert.ok(!(await everything()).includes(user.password));
    await saveMessages(user, [buildMessage()]);
    await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
    await sys.waitForCycles(account.id, 1);
    const status = await sys.status(account.id);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
  });
});
