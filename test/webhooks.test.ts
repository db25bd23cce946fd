import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { createApp } from '../api/app';
import { parseNetworkPolicy } from '../core/network-policy';
import { insertApiToken } from '../db/api-tokens';
import { newApiToken } from '../secrets/api-token';
import { webhookDeliveryWorkflowId } from '../workflows/webhook-delivery';
import { addUser, saveMessages } from '../testkit/dovecot';
import { costOf, cyclesOf } from '../testkit/engine-cost';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem, type TestSystem } from '../testkit/system';
import { Receiver, signatureVerifies } from './support/webhook-receiver';

const ALL_EVENTS = ['mail.delivered', 'message.quarantined', 'account.failing', 'account.reauthorization_needed'];
const MISSING = '00000000-0000-4000-8000-000000000000';
const CLI = path.resolve(__dirname, '../cli/main.js');

/** A listener on `host` that counts the connections reaching it and closes each at once. */
async function connectionTrap(host: string): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as net.AddressInfo).port}/hooks/mailpull`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Waits until the account's workflow finished `cycles` cycles and sits in its wait after the
 * last one, past the point where it sends that cycle's events; returns the activities it scheduled.
 */
async function settled(sys: TestSystem, accountId: string, cycles: number): Promise<string[]> {
  await sys.waitForCycles(accountId, cycles);
  return waitFor(`the workflow waiting after cycle ${cycles}`, async () => {
    const ended = cyclesOf((await sys.history(accountId)).events ?? []);
    return ended.length >= cycles ? ended.flatMap((cycle) => costOf(cycle).activities) : null;
  });
}

/** Every string in the histories of the account's workflow and of the webhook deliveries, as one text. */
async function historiesText(sys: TestSystem, accountId: string): Promise<string> {
  const { rows } = await sys.db.pool.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE external_account_id = $1', [accountId]);
  assert.ok(rows.length > 0, 'the account had deliveries');
  const parts = [await sys.historyText(accountId)];
  for (const { id } of rows) {
    const history = await sys.client.workflow.getHandle(webhookDeliveryWorkflowId(id)).fetchHistory();
    parts.push(JSON.stringify(history, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
  }
  return parts.join('\n');
}

describe('webhooks', () => {
  // a failed delivery is tried again after 1 s, 2 s, 4 s …; the worker may reach 127.0.0.1 only (the API all of 127/8)
  const sys = useTestSystem({ workerEnv: { MAILPULL_WEBHOOK_RETRY_SECONDS: '1', MAILPULL_ALLOWED_NETWORKS: '127.0.0.1/32' } });
  let owner: { id: string; address: string };
  const webhooks: string[] = [];

  before(async () => {
    owner = await sys.localAccount('owner@hooks.test');
  });

  const register = async (url: string, events = ALL_EVENTS): Promise<{ id: string; secret: string }> => {
    const created = await sys.ok<{ id: string; secret: string }>('POST', '/api/webhooks', { url, events });
    webhooks.push(created.id);
    return created;
  };
  /** Only this webhook receives events from now on. */
  const disableOthers = async (): Promise<void> => {
    for (const id of webhooks) await sys.ok('PATCH', `/api/webhooks/${id}`, { enabled: false });
  };

  test('registering: the URL is validated, the secret is shown once and sealed, only unscoped admin tokens manage webhooks', async () => {
    for (const url of ['not a url', 'ftp://hooks.test/', 'https://user:pass@hooks.test/', `https://hooks.test/${'x'.repeat(2048)}`, 42]) {
      const res = await sys.api('POST', '/api/webhooks', { url, events: ALL_EVENTS });
      assert.equal(res.status, 400, String(url));
      assert.equal(res.body.field, 'url', String(url));
    }
    const badEvent = await sys.api('POST', '/api/webhooks', { url: 'https://hooks.test/', events: ['mail.lost'] });
    assert.equal(badEvent.status, 400);
    assert.match(badEvent.body.field, /^events/);
    assert.equal((await sys.api('POST', '/api/webhooks', { url: 'https://hooks.test/', events: [] })).status, 400);

    const created = await sys.api('POST', '/api/webhooks', {
      url: 'https://HOOKS.test/in',
      events: ['account.failing', 'mail.delivered', 'account.failing'],
    });
    assert.equal(created.status, 201, created.raw.toString());
    const { id, secret } = created.body;
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(created.body.url, 'https://hooks.test/in', 'as the URL parser writes it');
    assert.deepEqual(created.body.events, ['mail.delivered', 'account.failing'], 'each once, in a fixed order');
    assert.equal(created.body.enabled, true);

    const sealed = await sys.db.pool.query<{ sealed: Buffer }>('SELECT sealed FROM webhook_secrets WHERE webhook_id = $1', [id]);
    assert.equal(sealed.rows.length, 1);
    assert.ok(!sealed.rows[0].sealed.includes(Buffer.from(secret)), 'sealed, not in clear');

    const answers = [
      await sys.api('GET', '/api/webhooks'),
      await sys.api('GET', `/api/webhooks/${id}`),
      await sys.api('PATCH', `/api/webhooks/${id}`, { enabled: false }),
      await sys.api('GET', `/api/webhooks/${id}/deliveries`),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.raw.toString());
      assert.ok(!answer.raw.toString().includes(secret), 'the secret is not shown again');
      assert.ok(!answer.raw.toString().includes('"secret"'));
    }
    assert.equal(answers[2].body.enabled, false);
    const badPatch = await sys.api('PATCH', `/api/webhooks/${id}`, { url: 'gopher://hooks.test/' });
    assert.equal(badPatch.status, 400);
    assert.equal(badPatch.body.field, 'url');
    const rotated = await sys.ok('PATCH', `/api/webhooks/${id}`, { rotateSecret: true });
    assert.match(rotated.secret, /^[0-9a-f]{64}$/);
    assert.notEqual(rotated.secret, secret);

    // read-only, and limited to a domain (even an admin one): neither reads nor changes webhooks
    const domain = (await sys.ok('GET', '/api/domains')).domains[0];
    const scoped = newApiToken();
    await insertApiToken(sys.db.pool, {
      id: scoped.id,
      name: 'scoped',
      scope: 'admin',
      secretHash: scoped.secretHash,
      domainIds: [domain.id],
    });
    for (const token of [await sys.createToken('read'), scoped.token]) {
      for (const [method, path, body] of [
        ['GET', '/api/webhooks'],
        ['POST', '/api/webhooks', { url: 'https://hooks.test/', events: ALL_EVENTS }],
        ['GET', `/api/webhooks/${id}`],
        ['PATCH', `/api/webhooks/${id}`, { enabled: true }],
        ['DELETE', `/api/webhooks/${id}`],
        ['GET', `/api/webhooks/${id}/deliveries`],
      ] as const) {
        const res = await sys.api(method, path, body, token);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error, 'forbidden');
      }
    }
    assert.equal((await sys.ok('GET', `/api/webhooks/${id}`)).enabled, false, 'nothing changed');

    assert.equal((await sys.api('DELETE', `/api/webhooks/${id}`)).status, 204);
    assert.equal((await sys.api('GET', `/api/webhooks/${id}`)).status, 404);
    assert.equal((await sys.api('GET', `/api/webhooks/${MISSING}/deliveries`)).status, 404);
    assert.equal((await sys.api('GET', `/api/webhooks/${MISSING}/deliveries?limit=0`)).status, 400);
  });

  test('the CLI adds, lists, disables, shows deliveries of and deletes webhooks through the API', async () => {
    const env = { ...process.env, MAILPULL_API_URL: sys.baseUrl, MAILPULL_API_TOKEN: sys.adminToken };
    const mailpull = async (...args: string[]): Promise<string> =>
      (await promisify(execFile)(process.execPath, [CLI, ...args], { env })).stdout.trimEnd();
    const added = await mailpull('webhooks', 'add', 'https://cli.hooks.test/in', '--event', 'account.failing', '--event', 'mail.delivered');
    const id = /webhook ([0-9a-f-]{36})/.exec(added)?.[1] ?? '';
    const secret = /secret ([0-9a-f]{64})/.exec(added)?.[1] ?? '';
    assert.ok(id && secret, added);
    assert.match(added, /shown only now/);
    const listed = await mailpull('webhooks', 'list');
    assert.match(listed, new RegExp(`${id}\\s+https://cli\\.hooks\\.test/in\\s+mail\\.delivered,account\\.failing\\s+yes`));
    assert.ok(!listed.includes(secret));
    assert.match(await mailpull('webhooks', 'disable', id), /disabled$/);
    assert.equal(JSON.parse(await mailpull('webhooks', 'show', id, '--json')).enabled, false);
    const rotated = await mailpull('webhooks', 'rotate-secret', id);
    assert.ok(!rotated.includes(secret) && /secret [0-9a-f]{64}/.test(rotated));
    assert.equal(await mailpull('webhooks', 'deliveries', id), '(none)');
    assert.match(await mailpull('webhooks', 'delete', id), /deleted webhook https:\/\/cli\.hooks\.test\/in/);
    assert.equal((await sys.api('GET', `/api/webhooks/${id}`)).status, 404);
  });

  test('a collected message sends one signed mail.delivered with the counts and nothing of the message', async () => {
    const receiver = await Receiver.start();
    try {
      await disableOthers();
      const { id: webhookId, secret } = await register(receiver.url);
      const source = await addUser('wh');
      const subject = 'Quarterly figures 7f3a';
      const text = 'the body text nobody else may read 91c2';
      await saveMessages(source, [buildMessage({ to: owner.address, subject, body: `${text}\r\n` })]);
      const external = await sys.pop3Account(owner, source, { name: 'hooked mailbox' });
      await settled(sys, external.id, 1);
      const [post] = await waitFor(
        'the mail.delivered POST',
        () => receiver.of('mail.delivered').length === 1 && receiver.of('mail.delivered'),
      );

      assert.ok(signatureVerifies(secret, post), 'the signature verifies with the secret shown at creation');
      assert.equal(post.headers['content-type'], 'application/json');
      const body = JSON.parse(post.raw.toString());
      assert.deepEqual(Object.keys(body).sort(), ['at', 'data', 'event', 'externalAccount', 'id']);
      assert.equal(body.event, 'mail.delivered');
      assert.equal(post.headers['x-mailpull-delivery'], body.id, 'receivers dedupe on the event id');
      assert.ok(!Number.isNaN(Date.parse(body.at)));
      assert.deepEqual(body.externalAccount, { id: external.id, name: 'hooked mailbox', owner: owner.address });
      assert.equal(body.data.delivered, 1);
      assert.equal(body.data.quarantined, 0);
      assert.ok(body.data.downloadedBytes > 0);
      const raw = post.raw.toString();
      for (const secretText of [subject, text, source.password, secret]) assert.ok(!raw.includes(secretText), `no "${secretText}"`);

      // a cycle that finds nothing new sends nothing
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      const steps = await settled(sys, external.id, 2);
      assert.equal(steps.filter((s) => s === 'dispatchWebhookEvents').length, 1, 'events from the first cycle only');
      assert.equal(receiver.requests.length, 1);

      const { deliveries } = await sys.ok('GET', `/api/webhooks/${webhookId}/deliveries`);
      assert.equal(deliveries.length, 1);
      assert.deepEqual(
        { event: deliveries[0].event, eventId: deliveries[0].eventId, state: deliveries[0].state, attempts: deliveries[0].attempts },
        { event: 'mail.delivered', eventId: body.id, state: 'delivered', attempts: 1 },
      );
      assert.equal(deliveries[0].lastStatus, 200);

      const histories = await historiesText(sys, external.id);
      for (const secretText of [secret, subject, text, source.password]) {
        assert.ok(!histories.includes(secretText), `no "${secretText}" in the workflow histories`);
      }
    } finally {
      await receiver.close();
    }
  });

  test('a receiver that answers 500 twice is tried again until it takes the delivery', async () => {
    const receiver = await Receiver.start((n) => (n <= 2 ? 500 : 200));
    try {
      await disableOthers();
      const { id: webhookId, secret } = await register(receiver.url, ['mail.delivered']);
      const source = await addUser('whr');
      await saveMessages(source, [buildMessage({ to: owner.address }), buildMessage({ to: owner.address })]);
      const external = await sys.pop3Account(owner, source);
      await waitFor('three attempts', () => receiver.requests.length >= 3, 60_000);
      const [delivery] = await waitFor('the delivery recorded', async () => {
        const list = (await sys.ok('GET', `/api/webhooks/${webhookId}/deliveries`)).deliveries;
        return list[0]?.state === 'delivered' && list;
      });
      assert.equal(delivery.attempts, 3);
      assert.equal(delivery.lastStatus, 200);
      assert.equal(delivery.lastError, null);
      assert.deepEqual(
        receiver.requests.map((r) => r.status),
        [500, 500, 200],
      );
      const [first, ...again] = receiver.requests;
      for (const retry of again) {
        assert.ok(retry.raw.equals(first.raw), 'the same body every time');
        assert.equal(retry.headers['x-mailpull-delivery'], first.headers['x-mailpull-delivery']);
        assert.ok(signatureVerifies(secret, retry));
      }
      assert.equal(JSON.parse(first.raw.toString()).data.delivered, 2);
      assert.equal(JSON.parse(first.raw.toString()).externalAccount.id, external.id);
    } finally {
      await receiver.close();
    }
  });

  test('a wrong password sends account.failing once, not once per failing cycle; a 410 is not retried', async () => {
    const receiver = await Receiver.start();
    const gone = await Receiver.start(() => 410);
    try {
      await disableOthers();
      const { secret } = await register(receiver.url);
      const { id: goneId } = await register(gone.url, ['account.failing']);
      const source = await addUser('whf');
      const external = await sys.pop3Account(owner, { ...source, password: 'wrong password' });
      await settled(sys, external.id, 1);
      for (const cycles of [2, 3]) {
        await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
        await settled(sys, external.id, cycles);
      }
      const status = await sys.status(external.id);
      assert.equal(status.counts.failedCycles, 3);

      const [post] = await waitFor(
        'the account.failing POST',
        () => receiver.of('account.failing').length > 0 && receiver.of('account.failing'),
      );
      assert.ok(signatureVerifies(secret, post));
      const body = JSON.parse(post.raw.toString());
      assert.equal(body.externalAccount.id, external.id);
      assert.equal(body.data.previousState, null, 'the workflow had published no state before');
      assert.equal(body.data.errorKind, 'auth');
      assert.equal(typeof body.data.error, 'string');
      assert.ok(!post.raw.toString().includes('wrong password'));

      const [refused] = await waitFor('the 410 recorded', async () => {
        const list = (await sys.ok('GET', `/api/webhooks/${goneId}/deliveries`)).deliveries;
        return list[0]?.state === 'failed' && list;
      });
      assert.deepEqual([refused.attempts, refused.lastStatus, refused.lastError], [1, 410, 'HTTP 410 Gone']);

      const { rows } = await sys.db.pool.query<{ event: string; n: number }>(
        'SELECT event, count(*)::int AS n FROM webhook_deliveries WHERE external_account_id = $1 GROUP BY event',
        [external.id],
      );
      assert.deepEqual(rows, [{ event: 'account.failing', n: 2 }], 'one event, to each of the two webhooks');
      assert.equal(receiver.requests.length, 1);
      assert.equal(gone.requests.length, 1, 'a 410 is final');
      assert.ok(!(await historiesText(sys, external.id)).includes(secret));

      // the deliveries' workflows outlive the accounts': none is left retrying
      const unfinished = await sys.db.pool.query("SELECT id FROM webhook_deliveries WHERE state NOT IN ('delivered', 'failed')");
      assert.equal(unfinished.rowCount, 0);
    } finally {
      await receiver.close();
      await gone.close();
    }
  });
  test('the network policy: a refused URL answers 400 url; a delivery to a refused address fails at once without a connection; redirects are not followed', async () => {
    const refusedUrl = async (send: (body: unknown) => Promise<{ status: number; body: any }>, url: string, message: RegExp) => {
      const res = await send({ url, events: ALL_EVENTS });
      assert.equal(res.status, 400, `${url}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.field, 'url', url);
      assert.match(res.body.message, message, url);
    };
    const viaTestApi = (body: unknown) => sys.api('POST', '/api/webhooks', body);
    await refusedUrl(viaTestApi, 'http://169.254.169.254/latest/meta-data/', /^url: outbound connection refused .*cloud metadata/);
    await refusedUrl(viaTestApi, 'https://[fe80::1]:8443/in', /link-local \(fe80::\/10\), always refused/);
    // an API with the production default: loopback and private networks are refused too
    const strict = createApp({
      pool: sys.db.pool,
      keyring: null as never,
      workflows: null as never,
      networkPolicy: parseNetworkPolicy({}),
      limits: { maxBodyBytes: 1024 * 1024, requestsPerMinute: 1_000_000 },
    });
    const viaStrictApi = async (body: unknown) => {
      const res = await strict.request('/api/webhooks', {
        method: 'POST',
        headers: { authorization: `Bearer ${sys.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    for (const [url, message] of [
      ['http://127.0.0.1:9/in', /127\.0\.0\.1 is loopback/],
      ['http://localhost/in', /localhost resolves to 127\.0\.0\.1, which is loopback/],
      ['http://[::1]/in', /::1 is loopback/],
      ['https://10.1.2.3/in', /10\.1\.2\.3 is private/],
    ] as const) {
      await refusedUrl(viaStrictApi, url, message);
    }
    const kept = await register('https://hooks.test/kept', ['mail.delivered']);
    const badPatch = await sys.api('PATCH', `/api/webhooks/${kept.id}`, { url: 'http://169.254.169.254/' });
    assert.equal(badPatch.status, 400);
    assert.equal(badPatch.body.field, 'url');
    assert.equal((await sys.ok('GET', `/api/webhooks/${kept.id}`)).url, 'https://hooks.test/kept', 'unchanged');

    // 127.0.0.2: the API allows it, the worker does not; a redirect to an allowed address is not followed either
    const refusedTrap = await connectionTrap('127.0.0.2');
    const redirectTrap = await connectionTrap('127.0.0.1');
    const redirecting = http.createServer((_req, res) => res.writeHead(302, { location: redirectTrap.url }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      await disableOthers();
      const refused = await register(refusedTrap.url, ['mail.delivered']);
      const redirected = await register(`http://127.0.0.1:${(redirecting.address() as net.AddressInfo).port}/in`, ['mail.delivered']);
      const source = await addUser('whp');
      await saveMessages(source, [buildMessage({ to: owner.address })]);
      await sys.pop3Account(owner, source);
      const finished = async (webhookId: string) =>
        waitFor(`the delivery of ${webhookId} finished`, async () => {
          const [delivery] = (await sys.ok('GET', `/api/webhooks/${webhookId}/deliveries`)).deliveries;
          return delivery?.state === 'failed' && delivery;
        });
      const blocked = await finished(refused.id);
      assert.deepEqual([blocked.attempts, blocked.lastStatus], [1, null], 'one attempt, no answer');
      assert.match(blocked.lastError, /^outbound connection refused by the network policy: 127\.0\.0\.2 is loopback/);
      const handle = sys.client.workflow.getHandle(webhookDeliveryWorkflowId(blocked.id));
      assert.equal(await handle.result(), 'failed', 'not retried');
      assert.equal(refusedTrap.connections(), 0, 'no connection reached the refused address');

      const bounced = await finished(redirected.id);
      assert.deepEqual([bounced.attempts, bounced.lastStatus], [1, 302]);
      assert.equal(bounced.lastError, 'HTTP 302 Found (redirects are not followed)');
      assert.equal(redirectTrap.connections(), 0, 'the redirect was not followed');
    } finally {
      await refusedTrap.close();
      await redirectTrap.close();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });
});
