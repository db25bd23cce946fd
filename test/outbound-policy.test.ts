import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import http from 'node:http';
import { ImapFlow } from 'imapflow';
import { parseNetworkPolicy } from '../core/network-policy';
import type { StoredDeliveryTarget } from '../core/delivery-target';
import { checkHost, connectChecked } from '../core/guarded-connect';
import { Pop3Client } from '../mail/pop3-client';
import { TargetClients } from '../mail/targets/target-clients';
import type { Parcel } from '../mail/targets/target-client';
import { domainWithTarget } from './support/delivered';
import { addUser, lmtpSocketPath, mailboxCount, saveMessages } from '../testkit/dovecot';
import { buildMessage } from '../testkit/messages';
import { loopbackPolicy, TEST_ALLOWED_NETWORKS } from '../testkit/network-policy';
import { useTestSystem } from '../testkit/system';

/** A listener that counts the connections reaching it and closes each at once. */
interface Trap {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function trap(listen: { host: string } | { path: string }): Promise<Trap> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => ('path' in listen ? server.listen(listen.path, resolve) : server.listen(0, listen.host, resolve)));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    get connections() {
      return state.connections;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const REFUSED = 'outbound connection refused by the network policy: ';

describe('outbound policy in the API: hosts it can judge are refused at creation (loopback not allowed)', () => {
  const sys = useTestSystem({ worker: false, apiNetworkPolicy: parseNetworkPolicy({}) });
  let owner: { id: string };
  before(async () => {
    owner = await sys.localAccount('owner@api-policy.test');
  });

  const account = (fields: Record<string, unknown>) => ({
    ownerAccountId: owner.id,
    name: 'remote',
    protocol: 'pop3',
    host: 'pop.example.com',
    port: 995,
    tlsMode: 'direct',
    username: 'someone',
    password: 'secret',
    ...fields,
  });

  const expectRefused = async (method: string, route: string, body: unknown, field: string, message: RegExp): Promise<void> => {
    const res = await sys.api(method, route, body);
    assert.equal(res.status, 400, `${method} ${route} ${JSON.stringify(body)}: ${res.raw.toString()}`);
    assert.equal(res.body.field, field);
    assert.match(res.body.message, message);
  };

  test('external accounts: metadata, a private address outside the list, a name for loopback and mapped forms answer 400 host', async () => {
    const cases: [string, RegExp][] = [
      [
        '169.254.169.254',
        /host: outbound connection refused by the network policy: 169\.254\.169\.254 is a cloud metadata address .*always refused/,
      ],
      ['10.255.255.1', /10\.255\.255\.1 is private \(10\.0\.0\.0\/8\), refused unless MAILPULL_ALLOWED_NETWORKS includes it/],
      ['localhost', /localhost resolves to 127\.0\.0\.1, which is loopback \(127\.0\.0\.0\/8\)/],
      ['127.1', /127\.1 resolves to 127\.0\.0\.1, which is loopback/],
      ['::ffff:127.0.0.1', /::ffff:127\.0\.0\.1 is loopback/],
      ['::1', /::1 is loopback \(::1\)/],
      ['fe80::1', /link-local \(fe80::\/10\), always refused/],
      ['0.0.0.0', /unspecified/],
    ];
    for (const [host, message] of cases) {
      for (const protocol of ['pop3', 'imap']) {
        await expectRefused('POST', '/api/external-accounts', account({ host, protocol, port: 1143 }), 'host', message);
      }
    }
    const listed = await sys.ok<{ externalAccounts: unknown[] }>('GET', '/api/external-accounts');
    assert.equal(listed.externalAccounts.length, 0, 'nothing was stored');
  });

  test('a name that does not resolve is accepted (the worker checks again); a change of host to a refused one is 400', async () => {
    const created = await sys.ok<{ id: string }>('POST', '/api/external-accounts', account({ host: 'mail.does-not-exist.invalid' }));
    await expectRefused('PATCH', `/api/external-accounts/${created.id}`, { host: '169.254.169.254' }, 'host', /cloud metadata/);
    await expectRefused('PATCH', `/api/external-accounts/${created.id}`, { host: 'localhost' }, 'host', /resolves to 127\.0\.0\.1/);
    const stored = await sys.ok<{ host: string }>('GET', `/api/external-accounts/${created.id}`);
    assert.equal(stored.host, 'mail.does-not-exist.invalid');
    // a change that leaves the host alone is not judged again
    await sys.ok('PATCH', `/api/external-accounts/${created.id}`, { intervalMinutes: 30 });
  });

  test('an OAuth2 token endpoint on a refused address answers 400 oauth.tokenEndpoint', async () => {
    for (const tokenEndpoint of ['http://localhost:9/token', 'https://169.254.169.254/token', 'http://[::1]:9/token']) {
      await expectRefused(
        'POST',
        '/api/external-accounts',
        account({
          password: undefined,
          authMethod: 'xoauth2',
          oauth: { provider: 'custom', tokenEndpoint, clientId: 'c', refreshToken: 'r' },
        }),
        'oauth.tokenEndpoint',
        new RegExp(`^oauth\\.tokenEndpoint: ${REFUSED}`),
      );
    }
  });

  test('delivery targets: LMTP, SMTP and IMAP hosts answer 400 host; a unix socket outside the allowed directories 400 socketPath', async () => {
    await expectRefused('POST', '/api/delivery-targets', { name: 't1', kind: 'lmtp', host: '169.254.169.254' }, 'host', /cloud metadata/);
    await expectRefused('POST', '/api/delivery-targets', { name: 't2', kind: 'smtp', host: '10.255.255.1' }, 'host', /private/);
    await expectRefused(
      'POST',
      '/api/delivery-targets',
      { name: 't3', kind: 'imap', host: 'localhost', username: 'master', password: 'pw' },
      'host',
      /localhost resolves to 127\.0\.0\.1, which is loopback/,
    );
    await expectRefused(
      'POST',
      '/api/delivery-targets',
      { name: 't4', kind: 'lmtp', socketPath: lmtpSocketPath() },
      'socketPath',
      /outside the directories MAILPULL_ALLOWED_SOCKET_DIRS allows \(none\)/,
    );
    const target = await sys.ok<{ id: string }>('POST', '/api/delivery-targets', {
      name: 't5',
      kind: 'lmtp',
      host: 'mx.does-not-exist.invalid',
    });
    await expectRefused('PATCH', `/api/delivery-targets/${target.id}`, { host: '127.0.0.1' }, 'host', /loopback/);
    await expectRefused(
      'PATCH',
      `/api/delivery-targets/${target.id}`,
      { socketPath: '/run/postgresql/.s.PGSQL.5432' },
      'socketPath',
      /outside/,
    );
    const listed = await sys.ok<{ deliveryTargets: { name: string; host: string | null }[] }>('GET', '/api/delivery-targets');
    assert.deepEqual(
      listed.deliveryTargets.map((t) => [t.name, t.host]),
      [['t5', 'mx.does-not-exist.invalid']],
    );
  });
});

describe('outbound policy in the worker: an account on loopback while loopback is not allowed', () => {
  // The API allows loopback (as a differently configured or earlier API might have), the worker does not.
  const sys = useTestSystem({ workerEnv: { MAILPULL_ALLOWED_NETWORKS: '192.0.2.0/24' } });
  const traps: Trap[] = [];
  after(async () => {
    for (const t of traps) await t.close();
  });
  const openTrap = async (): Promise<Trap> => {
    const t = await trap({ host: '127.0.0.1' });
    traps.push(t);
    return t;
  };

  const refusedCycle = async (externalId: string) => {
    const status = await sys.waitForCycles(externalId, 1);
    assert.equal(status.lastRun?.outcome, 'failed');
    assert.ok(status.lastError, 'the status shows the error');
    return status.lastError as { kind: string; message: string };
  };

  test('POP3 at 127.0.0.1 and IMAP at localhost: no connection arrives, the status shows a config error naming host, address and rule', async () => {
    const pop3 = await openTrap();
    const imap = await openTrap();
    const owner = await sys.localAccount('owner@worker-policy.test');
    const base = { ownerAccountId: owner.id, tlsMode: 'disabled', username: 'someone', password: 'secret' };
    const byIp = await sys.ok<{ id: string }>('POST', '/api/external-accounts', {
      ...base,
      name: 'pop3 by address',
      protocol: 'pop3',
      host: '127.0.0.1',
      port: pop3.port,
    });
    const byName = await sys.ok<{ id: string }>('POST', '/api/external-accounts', {
      ...base,
      name: 'imap by name',
      protocol: 'imap',
      host: 'localhost',
      port: imap.port,
      push: true,
    });
    const first = await refusedCycle(byIp.id);
    assert.equal(first.kind, 'config');
    assert.equal(first.message, `${REFUSED}127.0.0.1 is loopback (127.0.0.0/8), refused unless MAILPULL_ALLOWED_NETWORKS includes it`);
    const second = await refusedCycle(byName.id);
    assert.equal(second.kind, 'config');
    assert.equal(
      second.message,
      `${REFUSED}localhost resolves to 127.0.0.1, which is loopback (127.0.0.0/8), refused unless MAILPULL_ALLOWED_NETWORKS includes it`,
    );
    // a Connect Now runs another cycle: still refused, still nothing arrives
    await sys.ok('POST', `/api/external-accounts/${byIp.id}/connect-now`, undefined, 202);
    await sys.waitForCycles(byIp.id, 2);
    assert.equal(pop3.connections, 0, 'no connection reached the POP3 listener');
    assert.equal(imap.connections, 0, 'no connection reached the IMAP listener');
  });

  test('an OAuth2 token endpoint on loopback: no request arrives, the status shows the config error', async () => {
    const endpoint = await openTrap();
    const mailbox = await openTrap();
    const owner = await sys.localAccount('oauth@worker-policy.test');
    const created = await sys.ok<{ id: string }>('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'oauth',
      protocol: 'imap',
      host: 'mail.example.com',
      port: mailbox.port,
      tlsMode: 'direct',
      username: 'someone',
      authMethod: 'xoauth2',
      oauth: { provider: 'custom', tokenEndpoint: `http://127.0.0.1:${endpoint.port}/token`, clientId: 'c', refreshToken: 'r' },
    });
    const error = await refusedCycle(created.id);
    assert.equal(error.kind, 'config');
    assert.equal(error.message, `${REFUSED}127.0.0.1 is loopback (127.0.0.0/8), refused unless MAILPULL_ALLOWED_NETWORKS includes it`);
    assert.equal(endpoint.connections, 0, 'the refresh token went nowhere');
    assert.equal(mailbox.connections, 0);
  });
});

describe('outbound policy for delivery targets', () => {
  // The worker may collect from the test Dovecot (127.0.0.1) but not reach 127.0.0.2 or unix sockets.
  const trapDir = path.join(tmpdir(), `mailpull-trap-${process.pid}`);
  const socketPath = path.join(trapDir, 'lmtp');
  const sys = useTestSystem({
    workerEnv: { MAILPULL_ALLOWED_NETWORKS: '127.0.0.1/32', MAILPULL_ALLOWED_SOCKET_DIRS: '' },
    apiNetworkPolicy: parseNetworkPolicy({ allowedNetworks: TEST_ALLOWED_NETWORKS, allowedSocketDirs: trapDir }),
  });
  let local: Trap;
  let other: Trap;
  let unix: Trap;
  before(async () => {
    await mkdir(trapDir, { recursive: true });
    local = await trap({ host: '127.0.0.1' });
    // another loopback address, which the worker's list leaves out while the test Dovecot stays reachable
    other = await trap({ host: '127.0.0.2' });
    unix = await trap({ path: socketPath });
  });
  after(async () => {
    for (const t of [local, other, unix]) await t.close();
    await rm(trapDir, { recursive: true, force: true });
  });

  const target = (fields: Partial<StoredDeliveryTarget>): StoredDeliveryTarget => ({
    id: '00000000-0000-4000-8000-000000000001',
    name: 'trap',
    kind: 'lmtp',
    host: null,
    port: null,
    socketPath: null,
    tlsMode: 'disabled',
    tlsCa: null,
    allowInvalidCertificates: false,
    username: null,
    imapLogin: null,
    maxConnections: 2,
    passwordSet: false,
    password: null,
    createdAt: new Date(),
    updatedAt: new Date(),
    ...fields,
  });
  const parcel: Parcel = {
    raw: buildMessage({ subject: 'held' }),
    envelopeFrom: 'sender@remote.example',
    folder: 'INBOX',
    internalDate: new Date(),
    flags: [],
    recipients: [{ accountId: 'a1', address: 'someone@local.test' }],
  };

  test('LMTP, SMTP and IMAP APPEND targets and a unix socket: each message is held with the refusal, no connection arrives', async () => {
    const clients = new TargetClients(5_000, parseNetworkPolicy({}));
    const cases: [Partial<StoredDeliveryTarget>, string][] = [
      [{ kind: 'lmtp', host: '127.0.0.1', port: local.port }, '127.0.0.1 is loopback (127.0.0.0/8)'],
      [{ kind: 'smtp', host: 'localhost', port: local.port }, 'localhost resolves to 127.0.0.1, which is loopback (127.0.0.0/8)'],
      [
        { kind: 'imap', host: 'localhost', port: local.port, username: 'master', password: 'pw', imapLogin: 'master' },
        'localhost resolves to 127.0.0.1, which is loopback (127.0.0.0/8)',
      ],
      [{ kind: 'smtp', host: '10.255.255.1', port: 25 }, '10.255.255.1 is private (10.0.0.0/8)'],
      [{ kind: 'lmtp', host: '169.254.169.254', port: 24 }, '169.254.169.254 is a cloud metadata address'],
      [{ kind: 'lmtp', socketPath }, `unix socket ${socketPath} is outside the directories MAILPULL_ALLOWED_SOCKET_DIRS allows (none)`],
    ];
    for (const [i, [fields, reason]] of cases.entries()) {
      const [outcomes] = await clients
        .get(target({ ...fields, id: `00000000-0000-4000-8000-00000000000${i}` }))
        .deliver([parcel], () => Promise.resolve());
      const outcome = outcomes.get('a1');
      assert.equal(outcome?.status, 'temporary', JSON.stringify(fields));
      assert.ok(outcome?.response.startsWith(`${REFUSED}${reason}`), `${JSON.stringify(fields)}: ${outcome?.response}`);
    }
    clients.closeAll();
    assert.equal(local.connections, 0, 'no connection reached the TCP listener');
    assert.equal(unix.connections, 0, 'no connection reached the unix socket');
  });

  test('through the worker: collected from an allowed server, held for a target on 127.0.0.2 and for a unix socket, the refusal in the status', async () => {
    const runs: { domain: string; target: Record<string, unknown>; reason: string }[] = [
      {
        domain: 'tcp-target.test',
        target: { kind: 'lmtp', host: '127.0.0.2', port: other.port, tlsMode: 'disabled' },
        reason: `${REFUSED}127.0.0.2 is loopback (127.0.0.0/8), refused unless MAILPULL_ALLOWED_NETWORKS includes it`,
      },
      {
        domain: 'socket-target.test',
        target: { kind: 'lmtp', socketPath, tlsMode: 'disabled' },
        reason: `${REFUSED}unix socket ${socketPath} is outside the directories MAILPULL_ALLOWED_SOCKET_DIRS allows (none)`,
      },
    ];
    for (const { domain, target: settings, reason } of runs) {
      const source = await addUser('src');
      await saveMessages(source, [buildMessage({ subject: 'one' }), buildMessage({ subject: 'two' })]);
      await domainWithTarget(sys, domain, settings);
      const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `someone@${domain}` });
      const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately' });
      const status = await sys.waitForCycles(external.id, 1);
      assert.equal(status.lastError, null, 'the collection itself was allowed');
      assert.equal(status.lastRun?.held, 2);
      assert.equal(status.delivery.backlog, 2);
      assert.equal(status.delivery.lastError?.message, `someone@${domain}: ${reason}`);
      assert.equal(await mailboxCount(source), 2, 'held messages stay on the remote server');
    }
    assert.equal(other.connections, 0, 'no connection reached 127.0.0.2');
    assert.equal(unix.connections, 0, 'no connection reached the unix socket');
  });
});

describe('the checked lookup decides where each client connects (a name the system cannot resolve)', () => {
  // The resolver answers once; a second resolution (what DNS rebinding needs) would fail with ENOTFOUND.
  const name = 'checked-once.mailpull.invalid';
  let listener: Trap;
  let resolutions = 0;
  const checked = () =>
    checkHost(name, loopbackPolicy, {
      timeoutMs: 5_000,
      resolve: () => {
        resolutions++;
        return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
      },
    });
  before(async () => {
    listener = await trap({ host: '127.0.0.1' });
  });
  after(() => listener.close());

  test("the POP3 client, imapflow, nodemailer's socket and node:http reach the checked address by the name alone", async () => {
    const pop3 = Pop3Client.connect({
      host: name,
      port: listener.port,
      implicitTls: false,
      tls: { rejectUnauthorized: true },
      timeoutMs: 5_000,
      lookup: (await checked()).lookup,
    });
    await assert.rejects(pop3, (err: Error) => !/ENOTFOUND/.test(err.message));
    assert.equal(listener.connections, 1, 'POP3');

    const imap = new ImapFlow({ host: name, port: listener.port, secure: false, logger: false, tls: { lookup: (await checked()).lookup } });
    imap.on('error', () => undefined);
    await assert.rejects(imap.connect(), (err: Error) => !/ENOTFOUND/.test(err.message));
    assert.equal(listener.connections, 2, 'IMAP');

    const socket = await connectChecked({ host: 'localhost', port: listener.port }, loopbackPolicy, 5_000);
    socket.destroy();
    assert.equal(listener.connections, 3, 'SMTP/LMTP socket');

    const lookup = (await checked()).lookup;
    await new Promise<void>((resolve) => {
      const req = http.request(`http://${name}:${listener.port}/token`, { method: 'POST', lookup, agent: false }, () => resolve());
      req.on('error', () => resolve());
      req.end();
    });
    assert.equal(listener.connections, 4, 'HTTP');
    assert.equal(resolutions, 3, 'one resolution per connection, by the checker only');
  });
});
