import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { addUser, caCertificate, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { startTemporal, stopTemporal } from '../testkit/faults';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

const keyed = (key: string): Record<string, string> => ({ 'Idempotency-Key': key });

describe('Idempotency-Key on every create', () => {
  const sys = useTestSystem({ worker: false });

  test('the same request with the same key gets the first answer again and creates nothing more', async () => {
    const creates: { path: string; list: string; body: () => Promise<Record<string, unknown>> }[] = [
      { path: '/api/domains', list: 'domains', body: () => Promise.resolve({ name: 'idem.test' }) },
      { path: '/api/accounts', list: 'accounts', body: () => Promise.resolve({ address: 'owner@idem.test' }) },
      {
        path: '/api/delivery-targets',
        list: 'deliveryTargets',
        body: () => Promise.resolve({ name: 'idem target', kind: 'lmtp', host: '127.0.0.1' }),
      },
      {
        path: '/api/webhooks',
        list: 'webhooks',
        body: () => Promise.resolve({ url: 'https://hooks.idem.test/', events: ['account.failing'] }),
      },
      {
        path: '/api/external-accounts',
        list: 'externalAccounts',
        body: async () => ({
          ownerAccountId: (await sys.ok('GET', '/api/accounts')).accounts[0].id,
          name: 'idem',
          host: '127.0.0.1',
          username: 'u',
          password: 'p',
          enabled: false,
        }),
      },
    ];
    for (const create of creates) {
      const key = randomUUID();
      const body = await create.body();
      const first = await sys.api('POST', create.path, body, undefined, keyed(key));
      assert.equal(first.status, 201, `${create.path}: ${first.raw.toString()}`);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const again = await sys.api('POST', create.path, body, undefined, keyed(key));
      assert.equal(again.status, 201, `${create.path} again: ${again.raw.toString()}`);
      assert.equal(again.headers.get('idempotent-replayed'), 'true', create.path);
      assert.deepEqual(again.body, first.body, `${create.path}: the first answer, byte for byte (a webhook's secret too)`);
      const listed = (await sys.ok('GET', create.path))[create.list] as { id: string }[];
      assert.deepEqual(
        listed.map((o) => o.id),
        [first.body.id],
        `${create.path}: one object`,
      );

      const other = await sys.api('POST', create.path, { ...body, name: 'another name' }, undefined, keyed(key));
      assert.equal(other.status, 422, `${create.path} another body: ${other.raw.toString()}`);
      assert.equal(other.body.error, 'idempotency_key_reused');
      assert.equal(other.body.field, 'Idempotency-Key');
    }
    assert.equal((await sys.ok('GET', '/api/audit')).total, creates.length, 'an answer given again is no change of its own');
  });

  test('a key is per token and per request: another token, or the key on another route, is a request of its own', async () => {
    const key = randomUUID();
    const other = await sys.createToken('admin', 'other');
    assert.equal((await sys.api('POST', '/api/domains', { name: 'one.idem.test' }, undefined, keyed(key))).status, 201);
    assert.equal((await sys.api('POST', '/api/domains', { name: 'two.idem.test' }, other, keyed(key))).status, 201);
    const elsewhere = await sys.api('POST', '/api/accounts', { address: 'x@one.idem.test' }, undefined, keyed(key));
    assert.equal(elsewhere.status, 422);
  });

  test('an answer that is not 2xx is not kept: the corrected request with the same key runs, and its answer is kept', async () => {
    const key = randomUUID();
    const refused = await sys.api('POST', '/api/accounts', { address: 'someone@later.idem.test' }, undefined, keyed(key));
    assert.equal(refused.status, 400);
    await sys.ok('POST', '/api/domains', { name: 'later.idem.test' });
    const created = await sys.api('POST', '/api/accounts', { address: 'someone@later.idem.test' }, undefined, keyed(key));
    assert.equal(created.status, 201, created.raw.toString());
    assert.equal(created.headers.get('idempotent-replayed'), null);
    const again = await sys.api('POST', '/api/accounts', { address: 'someone@later.idem.test' }, undefined, keyed(key));
    assert.deepEqual([again.status, again.body.id], [201, created.body.id], 'the 2xx answer is the one kept');
  });

  test('a malformed key is 400 naming Idempotency-Key, and creates nothing', async () => {
    for (const key of ['has space', 'x'.repeat(256), 'é']) {
      const res = await sys.api('POST', '/api/domains', { name: 'bad-key.idem.test' }, undefined, keyed(key));
      assert.equal(res.status, 400, key);
      assert.equal(res.body.field, 'Idempotency-Key');
    }
    const names = (await sys.ok('GET', '/api/domains')).domains.map((d: { name: string }) => d.name);
    assert.ok(!names.includes('bad-key.idem.test'));
  });
});

describe('an external account created while Temporal is down', () => {
  // the worker's reconciler looks every 2 s instead of every 5 minutes
  const sys = useTestSystem({ workerEnv: { MAILPULL_RECONCILE_SECONDS: '2' } });

  test(
    'is created once (retried with its key), then collects by itself once Temporal is back, each message once',
    { timeout: 240_000 },
    async () => {
      const owner = await sys.localAccount('owner@down.idem.test');
      const user = await addUser('idemdown');
      await saveMessages(user, [
        buildMessage({ to: 'owner@down.idem.test', subject: 'first' }),
        buildMessage({ to: 'owner@down.idem.test', subject: 'second' }),
      ]);
      const body = {
        ownerAccountId: owner.id,
        name: 'made while Temporal was down',
        protocol: 'pop3',
        host: '127.0.0.1',
        port: testEnv.pop3Port(),
        tlsMode: 'starttls',
        tlsCa: await caCertificate(),
        username: user.name,
        password: user.password,
      };
      const key = randomUUID();
      await stopTemporal();
      let created: string;
      try {
        const first = await sys.api('POST', '/api/external-accounts', body, undefined, keyed(key));
        assert.equal(first.status, 201, first.raw.toString());
        assert.equal(first.body.workflow, 'starting', 'the answer says its workflow is not running yet');
        created = first.body.id;
        // the client did not get the answer and sends the request again
        const retried = await sys.api('POST', '/api/external-accounts', body, undefined, keyed(key));
        assert.equal(retried.status, 201, retried.raw.toString());
        assert.equal(retried.body.id, created);
        assert.equal(retried.headers.get('idempotent-replayed'), 'true');
      } finally {
        await startTemporal();
      }
      const listed = (await sys.ok('GET', '/api/external-accounts')).externalAccounts as { id: string }[];
      assert.deepEqual(
        listed.map((a) => a.id),
        [created],
        'one account on the mailbox',
      );
      // nobody touches the account: the worker finds it without a workflow and starts one
      await sys.waitForCycles(created, 1, 180_000);
      const page = await sys.ok('GET', `/api/accounts/${owner.id}/messages`);
      assert.equal(page.total, 2, 'each message delivered once');
      assert.deepEqual(page.messages.map((m: { subject: string }) => m.subject).sort(), ['first', 'second']);
      assert.ok(sys.worker?.output().includes(`started the workflow of external account ${created}`), "the worker's reconciler started it");
    },
  );
});

describe('the reconciler', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_RECONCILE_SECONDS: '2' } });

  test(
    'starts again the workflow of an account whose workflow ended (terminated) and whose report is long overdue',
    { timeout: 180_000 },
    async () => {
      const owner = await sys.localAccount('owner@ended.idem.test');
      const user = await addUser('idemended');
      const external = await sys.pop3Account(owner, user, { tlsMode: 'starttls' });
      await sys.waitForCycles(external.id, 1);
      // its report is in: the workflow now waits out its interval and reports nothing more meanwhile
      await waitFor('the status recorded', async () => (await sys.ok('GET', '/api/external-accounts')).externalAccounts[0].state === 'ok');
      await sys.client.workflow.getHandle(`external-account:${external.id}`).terminate('an operator ended it by mistake');
      // the account reported its next run as due two hours ago
      await sys.db.pool.query(
        `UPDATE account_status SET status = jsonb_set(status, '{nextRunAt}', to_jsonb((now() - interval '2 hours')::text))
        WHERE external_account_id = $1`,
        [external.id],
      );
      await saveMessages(user, [buildMessage({ to: owner.address, subject: 'after the restart' })]);
      await waitFor(
        'the message collected by a new run',
        async () => (await sys.ok('GET', `/api/accounts/${owner.id}/messages`)).total === 1,
        120_000,
      );
    },
  );
});
