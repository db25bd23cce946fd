import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { Pop3Client } from '../../mail/pop3-client';
import type { DovecotUser } from '../../testkit/dovecot';
import { testEnv } from '../../testkit/env';
import { withImapSession } from './imap';
import { buildMessage, textOfSize } from '../../testkit/messages';

const SCRIPTS = path.resolve(__dirname, '../../../scripts');

/**
 * A server other than Dovecot, run from Debian's unpacked packages by scripts/cyrus.sh or
 * scripts/courier.sh under the test run's directory, on ports offset by MAILPULL_TEST_PORT_BASE
 * (Cyrus base+1210.., Courier base+1250..), STARTTLS with a CA of its own.
 */
export interface OtherServer {
  kind: 'cyrus' | 'courier';
  dir: string;
  imapPort: number;
  pop3Port: number;
  ca: string;
}

function script(kind: OtherServer['kind'], env: Record<string, string>, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdout and stderr ignored but for the error: the daemons keep inherited descriptors open
    const child = spawn('bash', [path.join(SCRIPTS, `${kind}.sh`), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => {
      child.stderr.destroy();
      if (code === 0) resolve();
      else reject(new Error(`scripts/${kind}.sh ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

const portBase = (): number => Number(process.env.MAILPULL_TEST_PORT_BASE ?? 20000);

const portEnv = (server: OtherServer): Record<string, string> => {
  const name = server.kind.toUpperCase();
  return { [`${name}_IMAP_PORT`]: String(server.imapPort), [`${name}_POP3_PORT`]: String(server.pop3Port) };
};

export async function startOtherServer(kind: OtherServer['kind']): Promise<OtherServer> {
  const offset = kind === 'cyrus' ? 1210 : 1250;
  const server: OtherServer = {
    kind,
    dir: path.join(path.dirname(testEnv.dovecotDir()), kind),
    imapPort: portBase() + offset,
    pop3Port: portBase() + offset + 1,
    ca: '',
  };
  await script(kind, portEnv(server), 'start', server.dir);
  server.ca = await readFile(path.join(server.dir, 'tls', 'ca.pem'), 'utf8');
  return server;
}

export const stopOtherServer = (server: OtherServer): Promise<void> => script(server.kind, portEnv(server), 'stop', server.dir);

export async function addOtherUser(server: OtherServer, prefix: string): Promise<DovecotUser> {
  const user = { name: `${prefix}${randomBytes(5).toString('hex')}`, password: randomBytes(9).toString('base64url') };
  await script(server.kind, portEnv(server), 'adduser', server.dir, user.name, user.password);
  return user;
}

/**
 * An IMAP session as the user (STARTTLS, the server's CA checked): the test's view of the remote
 * side. A failure carries what Courier logged about the user, so a failed run says what it did.
 */
export const withOtherImap = <T>(server: OtherServer, user: DovecotUser, work: (client: ImapFlow) => Promise<T>): Promise<T> =>
  withImapSession(
    { port: server.imapPort, secure: false, tls: { ca: server.ca }, auth: { user: user.name, pass: user.password } },
    work,
  ).catch(async (err: unknown) => {
    throw await withServerLog(server, user, err);
  });

async function withServerLog(server: OtherServer, user: DovecotUser, err: unknown): Promise<unknown> {
  if (server.kind !== 'courier' || !(err instanceof Error)) return err;
  const logged = await readFile(path.join(server.dir, 'courier.log'), 'utf8').catch(() => '');
  const lines = logged.split('\n').filter((l) => l.includes(user.name) || /error|fail|lock/i.test(l));
  return new Error(`${err.message}\n  courier.log: ${lines.slice(-12).join('\n  ') || '(nothing about this user)'}`, { cause: err });
}

/** Appends messages to a folder (its full server path, such as "INBOX.Work"), creating it if needed. */
export async function appendToOther(
  server: OtherServer,
  user: DovecotUser,
  folder: string,
  messages: readonly { raw: Buffer; date?: Date }[],
): Promise<void> {
  await withOtherImap(server, user, async (client) => {
    // "already exists" is fine; any other refusal shows in the APPEND's answer below
    const created =
      folder.toUpperCase() === 'INBOX'
        ? null
        : await client.mailboxCreate(folder).then(
            () => null,
            (err: Error) => err,
          );
    for (const m of messages) {
      const done = await client.append(folder, m.raw, [], m.date).catch((err: Error & { responseText?: string }) => {
        throw new Error(
          `${server.kind} refused to APPEND to ${folder}: ${err.responseText ?? err.message}` +
            (created ? ` (CREATE answered: ${(created as Error & { responseText?: string }).responseText ?? created.message})` : ''),
        );
      });
      if (!done) throw new Error(`${server.kind} refused to APPEND to ${folder}`);
    }
  });
}

/** The raw messages of a folder, oldest UID first (EXAMINE, PEEK). */
export async function folderOnOther(server: OtherServer, user: DovecotUser, folder: string): Promise<Buffer[]> {
  return withOtherImap(server, user, async (client) => {
    const box = await client.mailboxOpen(folder, { readOnly: true });
    if (box.exists === 0) return [];
    const rows = await client.fetchAll('1:*', { uid: true, source: true });
    return rows.map((r) => r.source ?? Buffer.alloc(0));
  });
}

/** The messages POP3 serves the user, as a client that sent UTF8 where offered sees them. */
export async function pop3OnOther(server: OtherServer, user: DovecotUser, utf8: boolean): Promise<{ listed: number; raw: Buffer }[]> {
  const client = await Pop3Client.connect({
    host: '127.0.0.1',
    port: server.pop3Port,
    implicitTls: false,
    tls: { ca: server.ca, rejectUnauthorized: true },
    timeoutMs: 30_000,
  });
  try {
    await client.startTls();
    if (utf8) await client.utf8();
    await client.login(user.name, user.password);
    const out: { listed: number; raw: Buffer }[] = [];
    for (const [n, listed] of await client.list()) out.push({ listed, raw: await client.retr(n, 64 * 1024 * 1024) });
    return out;
  } finally {
    await client.quit();
  }
}

/**
 * 26 messages: routing headers (Received, Delivered-To, X-Original-To, Return-Path), a 25 MB one,
 * lines starting with ".", 8-bit text, 8-bit (UTF-8) header fields, broken MIME, small and middle
 * sizes. No NUL: IMAP may not carry it (RFC 3501), so APPEND could not put it on these servers.
 */
export function otherServerCorpus(): Buffer[] {
  const CRLF = '\r\n';
  const special = [
    buildMessage({
      subject: 'routed',
      headers: [
        ['Return-Path', '<bounce@remote.example>'],
        ['Delivered-To', 'someone@remote.example'],
        ['X-Original-To', 'alias@remote.example'],
        [
          'Received',
          'from mx.remote.example (mx.remote.example [192.0.2.1]) by mail.remote.example with ESMTPS id abc for <someone@remote.example>; Sat, 21 Nov 2026 10:00:00 +0000',
        ],
        ['Received', 'from client (client [198.51.100.7]) by mx.remote.example with ESMTPSA id def; Sat, 21 Nov 2026 09:59:58 +0000'],
      ],
    }),
    buildMessage({ subject: 'twenty-five megabytes', body: textOfSize(25 * 1024 * 1024) }),
    buildMessage({ subject: 'dots', body: `.leading dot${CRLF}..two dots${CRLF}.${CRLF}. space${CRLF}...${CRLF}end${CRLF}` }),
    buildMessage({
      subject: 'latin1',
      headers: [
        ['Content-Type', 'text/plain; charset=iso-8859-1'],
        ['Content-Transfer-Encoding', '8bit'],
      ],
      body: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80, 0x0d, 0x0a]),
    }),
    Buffer.concat([
      Buffer.from(`From: =?utf-8?q?J=C3=BCrgen?= <juergen@remote.example>${CRLF}Subject: `),
      Buffer.from('Grüße, café ☕', 'utf8'),
      Buffer.from(`${CRLF}Message-ID: <utf8-headers@remote.example>${CRLF}Date: Sat, 21 Nov 2026 10:00:00 +0000${CRLF}`),
      Buffer.from(`Content-Type: text/plain; charset=utf-8${CRLF}Content-Transfer-Encoding: 8bit${CRLF}${CRLF}`),
      Buffer.from(`8-bit header fields, no To${CRLF}Ünïcödé${CRLF}`, 'utf8'),
    ]),
    buildMessage({
      subject: 'malformed',
      headers: [
        ['Content-Type', 'multipart/mixed; boundary="never-closed'],
        ['MIME-Version', '1.0'],
      ],
      body: `--never-closed${CRLF}Content-Type: text/plain${CRLF}${CRLF}part${CRLF}--wrong--${CRLF}`,
    }),
    buildMessage({ subject: 'ends with dot line', body: `last line is a dot:${CRLF}.${CRLF}` }),
  ];
  const sizes = [200, 1_000, 3_000, 8_000, 20_000, 60_000, 150_000, 400_000, 1_200_000];
  const rest: Buffer[] = [];
  for (let i = 0; special.length + rest.length < 26; i++) {
    rest.push(buildMessage({ subject: `filler ${i}`, body: textOfSize(sizes[i % sizes.length]) }));
  }
  return [...special, ...rest];
}
