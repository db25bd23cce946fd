import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { before, describe, test, type TestContext } from 'node:test';
import { Pop3Client, type Pop3ConnectOptions } from '../mail/pop3-client';
import { addUser, caCertificate, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv } from '../testkit/env';
import { buildMessage, mixedCorpus } from '../testkit/messages';
import { lineServer, type LineServer } from './support/scripted-pop3';
import { rejection } from './support/rejection';

const plain = (port: number, timeoutMs = 2_000): Pop3ConnectOptions => ({
  host: '127.0.0.1',
  port,
  implicitTls: false,
  tls: { rejectUnauthorized: true },
  timeoutMs,
});

/** A scripted server and a client on it, both closed when the test ends, passed or not. */
async function scripted(
  t: TestContext,
  onLine: Parameters<typeof lineServer>[0],
  timeoutMs?: number,
): Promise<{ server: LineServer; client: Pop3Client }> {
  const server = await lineServer(onLine);
  t.after(() => server.close());
  const client = await Pop3Client.connect(plain(server.port, timeoutMs));
  t.after(() => client.destroy());
  return { server, client };
}

describe('POP3 client against scripted faults', () => {
  test('a connection dropped in the middle of RETR fails the command instead of hanging', async (t) => {
    const { client } = await scripted(
      t,
      (line, socket) => {
        if (line.startsWith('RETR')) {
          socket.write('+OK 100000 octets\r\nSubject: partial\r\n\r\nhalf of the bo');
          setTimeout(() => socket.destroy(), 50);
        } else socket.write('+OK\r\n');
      },
      30_000,
    );
    const started = Date.now();
    const err = await rejection(client.retr(1));
    assert.equal(err.kind, 'network');
    assert.ok(Date.now() - started < 5_000, 'failed promptly, not after the read timeout');
  });

  for (const thenClose of [true, false]) {
    test(`an unsolicited -ERR while idle${thenClose ? ' and a close' : ''} does not crash; the next command fails cleanly`, async (t) => {
      const { client } = await scripted(t, (line, socket) => {
        socket.write('+OK\r\n');
        if (line.startsWith('PASS')) {
          // what Dovecot says when it drops an idle client
          setTimeout(() => {
            socket.write('-ERR Disconnected for inactivity.\r\n');
            if (thenClose) socket.end();
          }, 20);
        }
      });
      await client.login('user', 'secret');
      await new Promise((r) => setTimeout(r, 150)); // the -ERR arrives while nothing is pending
      const err = await rejection(client.uidl());
      assert.ok(['network', 'protocol'].includes(err.kind), `kind ${err.kind}`);
    });
  }

  test('a server that stops answering hits the read timeout', async (t) => {
    const { client } = await scripted(t, () => undefined, 300);
    const err = await rejection(client.uidl());
    assert.equal(err.kind, 'timeout');
  });

  test('a UTF-8 password is sent as UTF-8 bytes', async (t) => {
    let received = Buffer.alloc(0);
    const { client } = await scripted(t, (line, socket) => {
      if (line.startsWith('PASS ')) received = Buffer.from(line.slice(5), 'latin1');
      socket.write('+OK\r\n');
    });
    await client.login('user', 'pässwörd€');
    assert.ok(received.equals(Buffer.from('pässwörd€', 'utf8')));
  });

  test('APOP without a timestamp in the greeting is a clear configuration error', async (t) => {
    const { client } = await scripted(t, (_line, socket) => socket.write('+OK\r\n'));
    const err = await rejection(client.apop('user', 'secret'));
    assert.equal(err.kind, 'config');
    assert.match(err.message, /timestamp/);
  });
});

describe('POP3 client and STLS injection', () => {
  test('plaintext the server sent after its STLS +OK is discarded, not read as a TLS-protected answer', async (t) => {
    const tlsDir = path.join(testEnv.dovecotDir(), 'tls');
    const [key, cert] = await Promise.all([readFile(path.join(tlsDir, 'server.key')), readFile(path.join(tlsDir, 'server.pem'))]);
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.write('+OK scripted\r\n');
      socket.once('data', () => {
        // the +OK for STLS, then a forged answer for the next command, still in plaintext
        socket.write('+OK begin TLS\r\n+OK forged\r\n');
        const secure = new tls.TLSSocket(socket, { isServer: true, key, cert });
        secure.on('data', (d: Buffer) => {
          secure.write(d.toString().startsWith('PASS') ? '-ERR [AUTH] the real answer\r\n' : '+OK\r\n');
        });
        secure.on('error', () => undefined);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.close();
      for (const socket of sockets) socket.destroy();
    });
    const client = await Pop3Client.connect({
      ...plain((server.address() as net.AddressInfo).port),
      tls: { ca: await caCertificate(), rejectUnauthorized: true },
    });
    t.after(() => client.destroy());
    await client.startTls();
    const err = await rejection(client.login('user', 'secret'));
    assert.equal(err.kind, 'auth', 'the answers came from the TLS session, not the forged plaintext');
  });
});

describe('POP3 client against Dovecot', () => {
  let user: DovecotUser;
  let ca: string;
  const corpus = mixedCorpus().slice(0, 8);
  before(async () => {
    user = await addUser();
    ca = await caCertificate();
    await saveMessages(user, corpus);
  });

  const dovecot = (over: Partial<Pop3ConnectOptions> = {}): Pop3ConnectOptions => ({
    ...plain(testEnv.pop3Port(), 10_000),
    tls: { ca, rejectUnauthorized: true },
    ...over,
  });

  test('STLS, login, UIDL, LIST and byte-exact RETR', async (t) => {
    const client = await Pop3Client.connect(dovecot());
    t.after(() => client.destroy());
    const caps = await client.capa();
    assert.ok(caps?.has('STLS'));
    await client.startTls();
    await client.login(user.name, user.password);
    const uids = await client.uidl();
    const sizes = await client.list();
    assert.equal(uids.size, corpus.length);
    assert.equal(sizes.size, corpus.length);
    for (let i = 0; i < corpus.length; i++) {
      const raw = await client.retr(i + 1);
      assert.ok(raw.equals(corpus[i]), `message ${i + 1} byte-identical`);
      assert.equal(sizes.get(i + 1), corpus[i].length);
    }
    await client.quit();
  });

  test('implicit TLS on the POP3S port', async (t) => {
    const client = await Pop3Client.connect(dovecot({ port: testEnv.pop3sPort(), implicitTls: true }));
    t.after(() => client.destroy());
    await client.login(user.name, user.password);
    assert.equal((await client.uidl()).size, corpus.length);
    await client.quit();
  });

  test('a certificate from an unknown CA is refused', async (t) => {
    const client = await Pop3Client.connect(dovecot({ tls: { rejectUnauthorized: true } }));
    t.after(() => client.destroy());
    const err = await rejection(client.startTls());
    assert.equal(err.kind, 'tls');
  });

  test('a wrong password is an authentication error', async (t) => {
    const client = await Pop3Client.connect(dovecot());
    t.after(() => client.destroy());
    await client.startTls();
    const err = await rejection(client.login(user.name, 'wrong-password'));
    assert.equal(err.kind, 'auth');
  });

  test('APOP logs in with the shared secret; a wrong secret is an authentication error', async (t) => {
    const good = await Pop3Client.connect(dovecot());
    t.after(() => good.destroy());
    assert.ok(good.apopTimestamp, 'Dovecot greets with an APOP timestamp');
    await good.apop(user.name, user.password);
    assert.equal((await good.uidl()).size, corpus.length);
    await good.quit();
    const bad = await Pop3Client.connect(dovecot());
    t.after(() => bad.destroy());
    assert.equal((await rejection(bad.apop(user.name, 'nope'))).kind, 'auth');
  });

  test('DELE takes effect only at QUIT', async (t) => {
    const other = await addUser();
    await saveMessages(other, [buildMessage(), buildMessage()]);
    const dropped = await Pop3Client.connect(dovecot());
    t.after(() => dropped.destroy());
    await dropped.login(other.name, other.password);
    await dropped.dele(1);
    dropped.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const check = await Pop3Client.connect(dovecot());
    t.after(() => check.destroy());
    await check.login(other.name, other.password);
    assert.equal((await check.uidl()).size, 2, 'a dropped session deleted nothing');
    await check.dele(1);
    await check.quit();
    const after = await Pop3Client.connect(dovecot());
    t.after(() => after.destroy());
    await after.login(other.name, other.password);
    assert.equal((await after.uidl()).size, 1);
    await after.quit();
  });
});
