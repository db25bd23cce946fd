import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { MailpullError } from '../core/errors';
import type { TlsMode } from '../core/tls-decision';
import { createImapSource } from '../mail/imap-source';
import { createPop3Source } from '../mail/pop3-source';
import type { MailSource } from '../mail/source';
import { addUser, caCertificate, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { loopbackPolicy } from '../testkit/network-policy';
import { lineServer } from './support/scripted-pop3';
import { useTestSystem } from '../testkit/system';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';

const TIMEOUT_MS = 2_000;
const sources: Record<'pop3' | 'imap', MailSource> = {
  pop3: createPop3Source({ timeoutMs: TIMEOUT_MS, networkPolicy: loopbackPolicy }),
  imap: createImapSource({ timeoutMs: TIMEOUT_MS, networkPolicy: loopbackPolicy }),
};
const ports = () => ({
  pop3: { plain: testEnv.pop3Port(), implicit: testEnv.pop3sPort() },
  imap: { plain: testEnv.imapPort(), implicit: testEnv.imapsPort() },
});

async function endpoint(
  user: DovecotUser,
  protocol: 'pop3' | 'imap',
  tlsMode: TlsMode,
  extra: Partial<MailboxEndpoint> = {},
): Promise<MailboxEndpoint> {
  return {
    protocol,
    host: '127.0.0.1',
    port: ports()[protocol][tlsMode === 'direct' ? 'implicit' : 'plain'],
    tlsMode,
    tlsCa: await caCertificate(),
    allowInvalidCertificates: false,
    authMethod: 'password',
    folders: { mode: 'inbox' },
    maxMessageBytes: 100 * 1024 * 1024,
    username: user.name,
    secret: user.password,
    ...extra,
  };
}

/** Opens a session, lists, logs out; returns how the connection was protected and how many messages it saw. */
async function probe(e: MailboxEndpoint): Promise<{ tls: string; messages: number }> {
  const session = await sources[e.protocol].open(e);
  try {
    const { messages } = await session.list([]);
    await session.commit();
    return { tls: session.tls, messages: messages.length };
  } catch (err) {
    session.abort();
    throw err;
  }
}

async function failure(e: MailboxEndpoint): Promise<MailpullError> {
  try {
    await probe(e);
  } catch (err) {
    assert.ok(err instanceof MailpullError, `a typed error, got ${String(err)}`);
    return err;
  }
  assert.fail('the connection should have been refused');
}

for (const protocol of ['pop3', 'imap'] as const) {
  describe(`${protocol.toUpperCase()} TLS modes against Dovecot`, () => {
    let user: DovecotUser;
    before(async () => {
      user = await addUser(`tls${protocol}`);
      await saveMessages(user, [buildMessage()]);
    });

    test('detect and starttls upgrade with STARTTLS/STLS on the plain port; direct is implicit TLS; disabled stays plaintext', async () => {
      assert.deepEqual(await probe(await endpoint(user, protocol, 'detect')), { tls: 'starttls', messages: 1 });
      assert.deepEqual(await probe(await endpoint(user, protocol, 'starttls')), { tls: 'starttls', messages: 1 });
      assert.deepEqual(await probe(await endpoint(user, protocol, 'direct')), { tls: 'implicit', messages: 1 });
      assert.deepEqual(await probe(await endpoint(user, protocol, 'disabled')), { tls: 'plaintext', messages: 1 });
    });

    test('a certificate from an unknown CA is refused by default, accepted with the custom CA or allowInvalidCertificates', async () => {
      for (const mode of ['detect', 'direct'] as const) {
        const err = await failure(await endpoint(user, protocol, mode, { tlsCa: null }));
        assert.equal(err.kind, 'tls', `${mode}: ${err.message}`);
        assert.equal((await probe(await endpoint(user, protocol, mode, { tlsCa: null, allowInvalidCertificates: true }))).messages, 1);
      }
    });

    test('disabled against the TLS-only port fails clearly instead of hanging', async () => {
      const e = await endpoint(user, protocol, 'disabled', { port: ports()[protocol].implicit });
      const started = Date.now();
      const err = await failure(e);
      assert.ok(Date.now() - started < TIMEOUT_MS * 5, 'fails within the configured timeout');
      assert.ok(['timeout', 'network', 'protocol'].includes(err.kind), err.kind);
      assert.match(err.message, /TLS|greeting|direct/i);
    });
  });
}

describe('detect never falls back to plaintext after an offered upgrade fails', () => {
  test('IMAP: STARTTLS offered, then refused → a tls error and no LOGIN sent', async (t) => {
    const received: string[] = [];
    const server = await lineServer((line, socket) => {
      received.push(line);
      const [tag, verb] = line.split(' ');
      if (/^CAPABILITY$/i.test(verb)) socket.write(`* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n${tag} OK done\r\n`);
      else if (/^STARTTLS$/i.test(verb)) socket.write(`${tag} NO not today\r\n`);
      else socket.write(`${tag} OK fine\r\n`);
    }, '* OK scripted IMAP ready');
    t.after(() => server.close());
    const user = { name: 'someone', password: 'secret-imap-pass' };
    const err = await failure({ ...(await endpoint(user, 'imap', 'detect')), port: server.port });
    assert.equal(err.kind, 'tls', err.message);
    assert.ok(!received.some((l) => /LOGIN|AUTHENTICATE/i.test(l)), received.join('\n'));
  });

  test('POP3: STLS offered, then refused → an error and no USER/PASS sent', async (t) => {
    const received: string[] = [];
    const server = await lineServer((line, socket) => {
      received.push(line);
      if (/^CAPA$/i.test(line)) socket.write('+OK\r\nSTLS\r\nUSER\r\n.\r\n');
      else if (/^STLS$/i.test(line)) socket.write('-ERR not today\r\n');
      else socket.write('+OK\r\n');
    });
    t.after(() => server.close());
    const user = { name: 'someone', password: 'secret-pop3-pass' };
    await failure({ ...(await endpoint(user, 'pop3', 'detect')), port: server.port });
    assert.ok(!received.some((l) => /^(USER|PASS|APOP)/i.test(l)), received.join('\n'));
  });
});

describe('starttls: a server that hides the upgrade (a man in the middle striking it) gets no login', () => {
  const hidingImap = (received: string[]) =>
    lineServer((line, socket) => {
      received.push(line);
      const [tag, verb] = line.split(' ');
      if (/^CAPABILITY$/i.test(verb)) socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
      else socket.write(`${tag} OK fine\r\n`);
    }, '* OK scripted IMAP ready');
  const hidingPop3 = (received: string[]) =>
    lineServer((line, socket) => {
      received.push(line);
      if (/^CAPA$/i.test(line)) socket.write('+OK\r\nUSER\r\nUIDL\r\n.\r\n');
      else socket.write('+OK\r\n');
    });

  test('IMAP: starttls refuses before LOGIN/AUTHENTICATE; detect would have logged in in plaintext', async (t) => {
    const user = { name: 'someone', password: 'secret-imap-pass' };
    const required: string[] = [];
    const server = await hidingImap(required);
    t.after(() => server.close());
    const err = await failure({ ...(await endpoint(user, 'imap', 'starttls')), port: server.port });
    assert.equal(err.kind, 'tls', err.message);
    assert.match(err.message, /tlsMode "starttls": the server does not offer STARTTLS/);
    assert.ok(!required.some((l) => /LOGIN|AUTHENTICATE/i.test(l)), required.join('\n'));

    const detected: string[] = [];
    const other = await hidingImap(detected);
    t.after(() => other.close());
    await failure({ ...(await endpoint(user, 'imap', 'detect')), port: other.port }).catch(() => undefined);
    assert.ok(
      detected.some((l) => /LOGIN|AUTHENTICATE/i.test(l)),
      'detect logs in without TLS: the reason for starttls',
    );
  });

  test('POP3: starttls refuses before USER/PASS/APOP/AUTH', async (t) => {
    const received: string[] = [];
    const server = await hidingPop3(received);
    t.after(() => server.close());
    const user = { name: 'someone', password: 'secret-pop3-pass' };
    const err = await failure({ ...(await endpoint(user, 'pop3', 'starttls')), port: server.port });
    assert.equal(err.kind, 'tls', err.message);
    assert.ok(!received.some((l) => /^(USER|PASS|APOP|AUTH)/i.test(l)), received.join('\n'));
    assert.ok(received.includes('CAPA'), 'it asked what the server offers');
  });
});

describe('TLS warnings in the account status', () => {
  const sys = useTestSystem();

  test('plaintext and unchecked certificates are reported as insecure; a checked STARTTLS is not', async () => {
    const user = await addUser('tlsstatus');
    await saveMessages(user, [buildMessage()]);
    const owner = await sys.localAccount('tls@status.test');
    const plain = await sys.imapAccount(owner, user, { tlsMode: 'disabled' });
    const unchecked = await sys.imapAccount(owner, user, { tlsCa: null, allowInvalidCertificates: true });
    const strict = await sys.imapAccount(owner, user, { tlsCa: null });
    const sPlain = await sys.waitForCycles(plain.id, 1);
    assert.equal(sPlain.tls, 'plaintext');
    assert.match(sPlain.tlsWarning ?? '', /not encrypted/);
    const sUnchecked = await sys.waitForCycles(unchecked.id, 1);
    assert.equal(sUnchecked.tls, 'starttls');
    assert.match(sUnchecked.tlsWarning ?? '', /not checked/);
    const sStrict = await sys.waitForCycles(strict.id, 1);
    assert.equal(sStrict.lastError?.kind, 'tls');
    assert.equal(sStrict.lastRun?.delivered, 0);
    assert.equal(sStrict.counts.cycles, 1);
  });
});
