import assert from 'node:assert/strict';
import type net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { ServerMessage } from '../core/download-plan';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';
import { createImapSource } from '../mail/imap-source';
import { loopbackPolicy } from '../testkit/network-policy';
import { rejection } from './support/rejection';
import { lineServer } from './support/scripted-pop3';

/**
 * An IMAP server that logs in, lists INBOX and selects it, and answers UID FETCH with FETCH rows
 * for messages nobody asked for, without end and without a tagged answer.
 */
async function endlessFetchServer(t: TestContext): Promise<number> {
  const floods = new Set<NodeJS.Timeout>();
  const server = await lineServer((line, socket: net.Socket) => {
    const [tag, verb = '', sub = ''] = line.split(' ');
    const command = verb.toUpperCase() === 'UID' ? `UID ${sub.toUpperCase()}` : verb.toUpperCase();
    if (command === 'CAPABILITY') socket.write(`* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n`);
    else if (command === 'LIST') socket.write(`* LIST (\\HasNoChildren) "/" "INBOX"\r\n${tag} OK done\r\n`);
    else if (command === 'SELECT' || command === 'EXAMINE')
      socket.write(`* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 4] ok\r\n${tag} OK [READ-ONLY] done\r\n`);
    else if (command === 'UID FETCH') {
      let n = 0;
      const flood = setInterval(() => {
        if (socket.destroyed) return clearInterval(flood);
        for (let i = 0; i < 50; i++, n++) socket.write(`* ${(n % 3) + 1} FETCH (UID ${1000 + n} BODY[]<0> {5}\r\nhello)\r\n`);
      }, 5);
      floods.add(flood);
    } else socket.write(`${tag} OK done\r\n`);
  }, '* OK scripted IMAP ready');
  t.after(() => {
    for (const flood of floods) clearInterval(flood);
    server.close();
  });
  return server.port;
}

const endpoint = (port: number): MailboxEndpoint => ({
  protocol: 'imap',
  host: '127.0.0.1',
  port,
  tlsMode: 'disabled',
  tlsCa: null,
  allowInvalidCertificates: false,
  authMethod: 'password',
  folders: { mode: 'inbox' },
  username: 'user',
  secret: 'secret',
  maxMessageBytes: 10 * 1024 * 1024,
});

const message = (uid: number): ServerMessage => ({
  folder: 'INBOX',
  uidvalidity: '7',
  uid: String(uid),
  size: 5,
  localFolder: 'INBOX',
  internalDate: null,
  flags: [],
});

describe('IMAP streaming fetch against a hostile server', () => {
  test('FETCH answers for messages not asked for, without end, fail the fetch instead of being read forever', async (t) => {
    const port = await endlessFetchServer(t);
    const mail = await createImapSource({ timeoutMs: 30_000, networkPolicy: loopbackPolicy }).open(endpoint(port));
    t.after(() => mail.abort());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the fetch was still reading after 10 s')), 10_000);
    });
    try {
      const err = await rejection(
        Promise.race([
          (async () => {
            for await (const fetched of mail.fetch([message(1), message(2)]))
              assert.fail(`nothing asked for arrived: ${fetched.message.uid}`);
          })(),
          deadline,
        ]),
      );
      assert.equal(err.kind, 'protocol', err.message);
      assert.match(err.message, /more than was asked/);
    } finally {
      clearTimeout(timer);
    }
  });
});
