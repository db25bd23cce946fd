import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { HEADER_KEEP_BYTES, LISTING_MAX_LINES, Pop3Client } from '../mail/pop3-client';
import { createPop3Source } from '../mail/pop3-source';
import type { Fetched, MailSession } from '../mail/source';
import { loopbackPolicy } from '../testkit/network-policy';
import { lineServer, scriptedPop3, type ScriptedPop3Options } from './support/scripted-pop3';
import { rejection } from './support/rejection';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';

const message = (subject: string, bodyBytes = 100): Buffer =>
  Buffer.from(`Subject: ${subject}\r\nMessage-ID: <${subject}@test>\r\n\r\n${'x'.repeat(bodyBytes)}\r\n`);

const endpoint = (port: number, maxMessageBytes: number): MailboxEndpoint => ({
  protocol: 'pop3',
  host: '127.0.0.1',
  port,
  tlsMode: 'disabled',
  tlsCa: null,
  allowInvalidCertificates: false,
  authMethod: 'password',
  folders: { mode: 'inbox' },
  username: 'user',
  secret: 'secret',
  maxMessageBytes,
});

async function session(
  t: TestContext,
  mailbox: Buffer[],
  options: Partial<ScriptedPop3Options> & { maxMessageBytes?: number; drainBytes?: number } = {},
): Promise<{ server: Awaited<ReturnType<typeof scriptedPop3>>; mail: MailSession }> {
  const server = await scriptedPop3({ user: 'user', password: 'secret', uidl: true, top: true, ...options });
  t.after(() => server.close());
  server.mailbox.push(...mailbox);
  const source = createPop3Source({ timeoutMs: 5_000, networkPolicy: loopbackPolicy, drainBytes: options.drainBytes });
  const mail = await source.open(endpoint(server.port, options.maxMessageBytes ?? 1024 * 1024));
  t.after(() => mail.abort());
  return { server, mail };
}

async function fetchAll(mail: MailSession, messages: Parameters<MailSession['fetch']>[0]): Promise<Fetched[]> {
  const out: Fetched[] = [];
  for await (const f of mail.fetch(messages)) out.push(f);
  return out;
}

describe('POP3 delete safety', () => {
  test('a UIDL listed twice gets content keys; DELE only where UIDL and size both match', async (t) => {
    const a = message('a');
    const b = message('b');
    const c = message('c', 300);
    const uidls = new Map([
      [a, 'u-a'],
      [b, 'dup'],
      [c, 'dup'],
    ]);
    const { server, mail } = await session(t, [a, b, c], { uidlOf: (m) => uidls.get(m) ?? '?' });
    const { messages } = await mail.list([]);
    const uids = messages.map((m) => m.uid);
    assert.equal(new Set(uids).size, 3, 'three distinct keys');
    assert.equal(uids[0], 'u-a');
    assert.ok(uids[1].startsWith('dup/ck-') && uids[2].startsWith('dup/ck-'), uids.join(' '));
    assert.notEqual(uids[1], uids[2]);

    const ref = (uid: string, size: number) => ({ folder: '', uidvalidity: '', uid, size });
    assert.deepEqual(await mail.remove([ref('dup', b.length), ref('dup', c.length)]), [], 'never on the duplicated UIDL alone');
    assert.deepEqual(await mail.remove([ref('u-a', a.length + 1)]), [], 'not when the size differs');
    assert.deepEqual(await mail.remove([ref(uids[1], c.length)]), [], 'not when the size differs from the listed one');
    assert.deepEqual(server.deles, [], 'no DELE sent');

    const removed = await mail.remove([ref('u-a', a.length), ref(uids[2], c.length)]);
    assert.deepEqual(
      removed.map((r) => r.uid),
      ['u-a', uids[2]],
    );
    assert.deepEqual(server.deles, [1, 3]);
  });

  test('messages with a duplicated UIDL are fetched, each its own', async (t) => {
    const b = message('b');
    const c = message('c');
    const { mail } = await session(t, [b, c], { uidlOf: () => 'same' });
    const { messages } = await mail.list([]);
    const fetched = await fetchAll(mail, messages);
    assert.deepEqual(
      fetched.map((f) => f.raw),
      [b, c],
    );
  });
});

describe('POP3 size limit on bytes received', () => {
  test('a message larger than the limit yields the oversize marker and the session stays usable', async (t) => {
    const small = message('small');
    const big = message('big', 200_000);
    const after = message('after');
    // the server declares 10 bytes for every message: the limit holds on what arrives
    const { mail } = await session(t, [small, big, after], { maxMessageBytes: 100_000, uidlOf: (m) => `id-${m.length}` });
    const { messages } = await mail.list([]);
    const fetched = await fetchAll(
      mail,
      messages.map((m) => ({ ...m, size: 10 })),
    );
    assert.equal(fetched.length, 3);
    assert.deepEqual(fetched[0].raw, small);
    assert.equal(fetched[1].raw, null);
    assert.ok(fetched[1].raw === null && fetched[1].oversize === big.length, 'oversize = bytes received');
    assert.deepEqual(fetched[2].raw, after);
  });

  test('past the drain cap the connection is dropped with an error naming the message', async (t) => {
    const big = message('big', 300_000);
    const { mail } = await session(t, [big], { maxMessageBytes: 10_000, drainBytes: 50_000, uidlOf: () => 'the-big-one' });
    const { messages } = await mail.list([]);
    const err = await rejection(fetchAll(mail, messages));
    assert.equal(err.kind, 'protocol');
    assert.match(err.message, /RETR 1 reply is longer than/);
    assert.deepEqual(err.ref, { folder: '', uidvalidity: '', uid: 'the-big-one' });
  });
});

describe('POP3 reply bounds', () => {
  async function client(t: TestContext, onLine: Parameters<typeof lineServer>[0]): Promise<Pop3Client> {
    const server = await lineServer(onLine);
    t.after(() => server.close());
    const c = await Pop3Client.connect({
      host: '127.0.0.1',
      port: server.port,
      implicitTls: false,
      tls: { rejectUnauthorized: true },
      timeoutMs: 10_000,
    });
    t.after(() => c.destroy());
    return c;
  }

  const listing = (n: number, value: (i: number) => string): string => {
    const lines: string[] = ['+OK'];
    for (let i = 1; i <= n; i++) lines.push(`${i} ${value(i)}`);
    return `${lines.join('\r\n')}\r\n.\r\n`;
  };

  test('a listing of 100,000 messages works', async (t) => {
    const c = await client(t, (line, socket) => {
      if (line === 'UIDL') socket.write(listing(100_000, (i) => `000${i}-0123456789abcdef`));
      else if (line === 'LIST') socket.write(listing(100_000, (i) => String(1000 + i)));
      else socket.write('+OK\r\n');
    });
    const uids = await c.uidl();
    const sizes = await c.list();
    assert.equal(uids.size, 100_000);
    assert.equal(uids.get(100_000), '000100000-0123456789abcdef');
    assert.equal(sizes.get(7), 1007);
  });

  test('a listing with more lines than the bound fails for good and drops the connection', async (t) => {
    const c = await client(t, (line, socket) => {
      if (line === 'LIST') socket.write(listing(LISTING_MAX_LINES + 1, () => '1'));
      else socket.write('+OK\r\n');
    });
    const err = await rejection(c.list());
    assert.equal(err.kind, 'permanent');
    assert.match(err.message, /LIST reply is longer than/);
    assert.equal((await rejection(c.uidl())).kind, 'permanent', 'the connection is gone');
  });

  test('TOP keeps the first MiB of a huge header and the next command still works', async (t) => {
    const header = `X-Long: ${'h'.repeat(3 * 1024 * 1024)}\r\n`;
    const c = await client(t, (line, socket) => {
      if (line.startsWith('TOP')) socket.write(`+OK\r\n${header}\r\n.\r\n`);
      else if (line === 'UIDL') socket.write('+OK\r\n1 only\r\n.\r\n');
      else socket.write('+OK\r\n');
    });
    const top = await c.top(1);
    assert.equal(top.length, HEADER_KEEP_BYTES);
    assert.ok(top.subarray(0, 8).equals(Buffer.from('X-Long: ')));
    assert.deepEqual([...(await c.uidl())], [[1, 'only']]);
  });

  for (const [answer, kind] of [
    ['-ERR [AUTH] bad password', 'auth'],
    ['-ERR bad password', 'auth'],
    ['-ERR [SYS/TEMP] backend down', 'busy'],
    ['-ERR [IN-USE] mailbox locked', 'busy'],
    ['-ERR [LOGIN-DELAY] wait', 'busy'],
    ['-ERR [SYS/PERM] account closed', 'permanent'],
  ] as const) {
    test(`PASS answered "${answer}" is ${kind}`, async (t) => {
      const c = await client(t, (line, socket) => socket.write(line.startsWith('PASS') ? `${answer}\r\n` : '+OK\r\n'));
      assert.equal((await rejection(c.login('user', 'secret'))).kind, kind);
    });
  }

  test('a -ERR [SYS/TEMP] outside login is transient, not a protocol error', async (t) => {
    const c = await client(t, (line, socket) => socket.write(line === 'UIDL' ? '-ERR [SYS/TEMP] try later\r\n' : '+OK\r\n'));
    assert.equal((await rejection(c.uidl())).kind, 'busy');
  });
});
