import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pop3Client } from '../mail/pop3-client';
import { testEnv, waitFor } from './env';

const run = promisify(execFile);

const conf = (): string => path.join(testEnv.dovecotDir(), 'dovecot.conf');

export interface DovecotUser {
  name: string;
  password: string;
}

/** A new mailbox user on the test Dovecot (passwd-file, plaintext so APOP works). */
export async function addUser(prefix = 'u', extraFields = ''): Promise<DovecotUser> {
  const user = { name: `${prefix}${randomBytes(5).toString('hex')}`, password: randomBytes(9).toString('base64url') };
  // empty uid, gid, gecos, home, shell: the userdb's default_fields fill them; extra fields (e.g. nologin) after them
  await appendFile(path.join(testEnv.dovecotDir(), 'passwd'), `${user.name}:{PLAIN}${user.password}::::::${extraFields}\n`);
  // Dovecot checks the passwd-file for changes at most once a second: wait until it knows the user.
  await waitFor(
    `Dovecot to know user ${user.name}`,
    async () => {
      await run('doveadm', ['-c', conf(), 'user', user.name]);
      return true;
    },
    10_000,
    200,
  );
  return user;
}

/**
 * Many new mailbox users at once: one append to the passwd-file, then one wait until Dovecot
 * knows the last of them (it reads the whole file on change); addUser waits for each.
 */
export async function addUsers(prefix: string, count: number): Promise<DovecotUser[]> {
  const users = Array.from({ length: count }, () => ({
    name: `${prefix}${randomBytes(5).toString('hex')}`,
    password: randomBytes(9).toString('base64url'),
  }));
  await appendFile(path.join(testEnv.dovecotDir(), 'passwd'), users.map((u) => `${u.name}:{PLAIN}${u.password}::::::\n`).join(''));
  const last = users[count - 1].name;
  await waitFor(
    `Dovecot to know user ${last}`,
    async () => {
      await run('doveadm', ['-c', conf(), 'user', last]);
      return true;
    },
    10_000,
    200,
  );
  return users;
}

/** Saves messages into one of the user's folders (INBOX by default) with doveadm, in order. */
export async function saveMessages(user: DovecotUser, messages: readonly Buffer[], folder = 'INBOX'): Promise<void> {
  for (const message of messages) {
    await new Promise<void>((resolve, reject) => {
      const child = execFile('doveadm', ['-c', conf(), 'save', '-u', user.name, '-m', folder], (err) => {
        if (err) reject(new Error(`doveadm save failed: ${err.message}`));
        else resolve();
      });
      child.stdin?.end(message);
    });
  }
}

/** How many messages the user's INBOX holds on the server. */
export const countOnServer = (user: DovecotUser): Promise<number> => mailboxCount(user);

/** The Dovecot log lines about the user (logins, logouts, auth results). */
export async function logLinesFor(user: DovecotUser): Promise<string[]> {
  const log = await readFile(path.join(testEnv.dovecotDir(), 'dovecot.log'), 'utf8');
  const mentions = new RegExp(`[(<]${user.name}[,)>]`);
  return log.split('\n').filter((l) => mentions.test(l));
}

export const caCertificate = (): Promise<string> => readFile(path.join(testEnv.dovecotDir(), 'tls', 'ca.pem'), 'utf8');

/**
 * Drops every IMAP session of the user from the server side, as a server restart would: ends
 * the imap processes the log names for the user's logins (mpid=…), all children of the test
 * Dovecot. Returns how many were running.
 */
export async function dropImapSessions(user: DovecotUser): Promise<number> {
  const pids = (await logLinesFor(user))
    .filter((l) => l.includes('imap-login: Info: Login:'))
    .map((l) => Number(/mpid=(\d+)/.exec(l)?.[1]))
    .filter((pid) => Number.isInteger(pid));
  let dropped = 0;
  for (const pid of new Set(pids)) {
    try {
      process.kill(pid, 'SIGTERM');
      dropped++;
    } catch {
      // that session had already ended
    }
  }
  return dropped;
}

/** The test Dovecot's LMTP unix socket. */
export const lmtpSocketPath = (): string => path.join(testEnv.dovecotDir(), 'run', 'lmtp');

/** The master user that may log in as anyone (IMAP APPEND delivery): name and password. */
export async function masterUser(): Promise<DovecotUser> {
  const line = (await readFile(path.join(testEnv.dovecotDir(), 'master-users'), 'utf8')).trim();
  const [name, password] = line.split(':{PLAIN}');
  return { name, password };
}

/** Gives the user a storage quota (KiB) in its passwd-file line; Dovecot reads the file on change. */
export async function setQuota(user: DovecotUser, kib: number): Promise<void> {
  const file = path.join(testEnv.dovecotDir(), 'passwd');
  const others = (await readFile(file, 'utf8')).split('\n').filter((l) => l && !l.startsWith(`${user.name}:`));
  await writeFile(file, [...others, `${user.name}:{PLAIN}${user.password}::::::userdb_quota_rule=*:storage=${kib}K`, ''].join('\n'));
  await waitFor(
    `Dovecot to see the quota of ${user.name}`,
    async () => {
      const { stdout } = await run('doveadm', ['-c', conf(), 'user', user.name]);
      return stdout.includes(`storage=${kib}K`);
    },
    10_000,
    200,
  );
}

/** Whether a full mailbox answers LMTP with 452 (temporary) or 552 (permanent); reloads Dovecot. */
export async function setQuotaFullTempfail(tempfail: boolean): Promise<void> {
  await writeFile(path.join(testEnv.dovecotDir(), 'quota-full.conf'), `quota_full_tempfail = ${tempfail ? 'yes' : 'no'}\n`);
  await run('doveadm', ['-c', conf(), 'reload']);
  // The reload restarts the services; wait until LMTP answers again with the new setting.
  await waitFor(
    'Dovecot to take the quota setting',
    async () => {
      const { stdout } = await run('doveconf', ['-c', conf(), '-h', 'quota_full_tempfail']);
      return stdout.trim() === (tempfail ? 'yes' : 'no');
    },
    10_000,
    200,
  );
}

/** How many messages a folder of the user holds on the server (doveadm, no login). */
export async function mailboxCount(user: DovecotUser, folder = 'INBOX'): Promise<number> {
  const { stdout } = await run('doveadm', ['-c', conf(), '-f', 'flow', 'mailbox', 'status', '-u', user.name, 'messages', folder]);
  return Number(/messages=(\d+)/.exec(stdout)?.[1] ?? NaN);
}

/** A POP3 session as the user on the test Dovecot (STLS, the test CA checked), logged in. */
export async function pop3Login(user: DovecotUser): Promise<Pop3Client> {
  const client = await Pop3Client.connect({
    host: '127.0.0.1',
    port: testEnv.pop3Port(),
    implicitTls: false,
    tls: { ca: await caCertificate(), rejectUnauthorized: true },
    timeoutMs: 30_000,
  });
  await client.login(user.name, user.password);
  return client;
}

/** Every message in the user's INBOX as POP3 serves it: raw bytes, NUL included (IMAP shows NUL as 0x80). */
export async function readByPop3(user: DovecotUser): Promise<Buffer[]> {
  const client = await pop3Login(user);
  try {
    const messages: Buffer[] = [];
    for (const n of (await client.list()).keys()) messages.push(await client.retr(n));
    return messages;
  } finally {
    await client.quit();
  }
}
