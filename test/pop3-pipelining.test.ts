import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';
import { createPop3Source } from '../mail/pop3-source';
import type { Fetched, MailSession } from '../mail/source';
import { buildMessage, textOfSize } from '../testkit/messages';
import { lineServer } from './support/scripted-pop3';
import { loopbackPolicy } from '../testkit/network-policy';
import { rejection } from './support/rejection';

const stuffed = (body: Buffer): string => body.toString('latin1').replace(/^\./gm, '..').concat('.\r\n');

interface SlowServer {
  port: number;
  /** commands received and not yet answered, at most, while a session retrieved */
  maxUnanswered: number;
  /** every command, in order */
  commands: string[];
}

/**
 * A POP3 server that answers each command a few milliseconds late, in order, and counts how many
 * commands a client sent before their answers: a client that waits for each answer never has
 * more than one outstanding.
 */
async function slowServer(t: TestContext, mailbox: readonly Buffer[], pipelining: boolean, refuseRetr?: number): Promise<SlowServer> {
  const state: SlowServer = { port: 0, maxUnanswered: 0, commands: [] };
  let unanswered = 0;
  let answered = Promise.resolve();
  const server = await lineServer((line, socket) => {
    state.commands.push(line);
    unanswered++;
    state.maxUnanswered = Math.max(state.maxUnanswered, unanswered);
    const [verb, arg] = line.split(' ');
    const message = mailbox[Number(arg) - 1];
    let answer: string;
    switch (verb) {
      case 'CAPA':
        answer = `+OK\r\nUSER\r\nUIDL\r\n${pipelining ? 'PIPELINING\r\n' : ''}.\r\n`;
        break;
      case 'LIST':
        answer = `+OK\r\n${mailbox.map((m, i) => `${i + 1} ${m.length}\r\n`).join('')}.\r\n`;
        break;
      case 'UIDL':
        answer =
          arg === undefined
            ? `+OK\r\n${mailbox.map((_, i) => `${i + 1} uid-${i + 1}\r\n`).join('')}.\r\n`
            : message
              ? `+OK ${arg} uid-${arg}\r\n`
              : '-ERR no such message\r\n';
        break;
      case 'RETR':
        answer = message && Number(arg) !== refuseRetr ? `+OK\r\n${stuffed(message)}` : '-ERR no such message\r\n';
        break;
      default:
        answer = '+OK\r\n';
    }
    answered = answered.then(async () => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      unanswered--;
      if (!socket.destroyed) socket.write(answer);
    });
  });
  t.after(() => server.close());
  state.port = server.port;
  return state;
}

const endpoint = (port: number): MailboxEndpoint => ({
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
  maxMessageBytes: 10 * 1024 * 1024,
});

async function open(t: TestContext, port: number): Promise<MailSession> {
  const mail = await createPop3Source({ timeoutMs: 10_000, networkPolicy: loopbackPolicy }).open(endpoint(port));
  t.after(() => mail.abort());
  return mail;
}

const mailbox = [
  ...Array.from({ length: 40 }, (_, i) => buildMessage({ subject: `small ${i}`, body: `.dot line\r\nbody ${i}\r\n` })),
  buildMessage({ subject: 'larger than what is sent ahead', body: textOfSize(3 * 1024 * 1024) }),
  ...Array.from({ length: 5 }, (_, i) => buildMessage({ subject: `after ${i}` })),
];

/**
 * A PIPELINING server whose LIST declares every message small but whose RETR answers are 4 MiB
 * each: all of them are sent ahead, and the server writes each answer as soon as it is asked.
 * Counts the bytes the client's side has taken off its hands (write callbacks: handed to the kernel).
 */
async function floodingServer(t: TestContext, count: number, body: Buffer): Promise<{ port: number; flushed: () => number }> {
  let flushed = 0;
  const answer = Buffer.from(`+OK\r\n${stuffed(body)}`, 'latin1');
  const server = await lineServer((line, socket) => {
    const [verb, arg] = line.split(' ');
    if (verb === 'CAPA') socket.write('+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n');
    else if (verb === 'LIST') socket.write(`+OK\r\n${Array.from({ length: count }, (_, i) => `${i + 1} 1000\r\n`).join('')}.\r\n`);
    else if (verb === 'UIDL' && arg === undefined)
      socket.write(`+OK\r\n${Array.from({ length: count }, (_, i) => `${i + 1} uid-${i + 1}\r\n`).join('')}.\r\n`);
    else if (verb === 'RETR') socket.write(answer, () => (flushed += answer.length));
    else socket.write('+OK\r\n');
  });
  t.after(() => server.close());
  return { port: server.port, flushed: () => flushed };
}

describe('POP3 PIPELINING', () => {
  test('answers sent ahead wait in the network, not in memory: reading pauses while the consumer is busy', async (t) => {
    const count = 20;
    const body = textOfSize(4 * 1024 * 1024);
    const server = await floodingServer(t, count, body);
    const mail = await open(t, server.port);
    const { messages } = await mail.list([]);
    let got = 0;
    let flushedWhileBusy = 0;
    for await (const f of mail.fetch(messages)) {
      assert.equal(f.raw?.length, body.length);
      got++;
      if (got === 1) {
        // every RETR was sent ahead (declared 1000 bytes each): 80 MiB of answers on their way
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        flushedWhileBusy = server.flushed();
      }
    }
    assert.equal(got, count);
    // a client that kept reading would have taken all 80 MiB; one that pauses holds at most a few
    // hundred KiB, the kernel's socket buffers the rest of what the server could write
    assert.ok(
      flushedWhileBusy < 24 * 1024 * 1024,
      `${(flushedWhileBusy / 1024 / 1024).toFixed(1)} MiB written while the consumer was busy`,
    );
    await mail.commit();
  });

  test('where CAPA offers it, RETR commands go ahead of their answers; every message arrives whole and in order', async (t) => {
    const server = await slowServer(t, mailbox, true);
    const mail = await open(t, server.port);
    const { messages } = await mail.list([]);
    const fetched: Fetched[] = [];
    for await (const f of mail.fetch(messages)) fetched.push(f);
    assert.deepEqual(
      fetched.map((f) => f.raw),
      mailbox,
    );
    assert.ok(server.maxUnanswered > 1, `commands in flight at once: ${server.maxUnanswered}`);
    await mail.commit();
  });

  test('a later session finds its batch with pipelined UIDL n, and one that stops early stays in step', async (t) => {
    const server = await slowServer(t, mailbox, true);
    const listed = (await (await open(t, server.port)).list([])).messages;
    const mail = await open(t, server.port);
    const before = server.commands.length;
    for await (const f of mail.fetch(listed.slice(0, 20))) {
      if (f.message.uid === 'uid-3') break;
    }
    const uidlCommands = server.commands.slice(before).filter((c) => c.startsWith('UIDL '));
    assert.equal(uidlCommands.length, 20, 'each message located by its number, no full listing');
    const after: Buffer[] = [];
    for await (const f of mail.fetch(listed.slice(38, 42))) if (f.raw) after.push(f.raw);
    assert.deepEqual(after, mailbox.slice(38, 42), 'the answers of the abandoned RETRs were read, not mistaken for these');
    await mail.commit();
  });

  test('without PIPELINING in CAPA, one command at a time', async (t) => {
    const server = await slowServer(t, mailbox, false);
    const mail = await open(t, server.port);
    const { messages } = await mail.list([]);
    let count = 0;
    for await (const f of mail.fetch(messages)) if (f.raw) count++;
    assert.equal(count, mailbox.length);
    assert.equal(server.maxUnanswered, 1);
  });

  test('a RETR refused in the middle of a pipelined run names its message', async (t) => {
    const server = await slowServer(t, mailbox.slice(0, 10), true, 6);
    const mail = await open(t, server.port);
    const { messages } = await mail.list([]);
    const got: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const f of mail.fetch(messages)) got.push(f.message.uid);
      })(),
    );
    assert.deepEqual(got, ['uid-1', 'uid-2', 'uid-3', 'uid-4', 'uid-5']);
    assert.equal(err.ref?.uid, 'uid-6');
  });
});
