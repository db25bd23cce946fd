import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { testEnv, waitFor } from './env';

const run = promisify(execFile);

const conf = (): string => path.join(testEnv.dovecotDir(), 'dovecot.conf');

export interface DovecotUser {
  name: string;
  password: string;
}

/** A new mailbox user on the test Dovecot (passwd-file, plaintext so APOP works). */
export async function addUser(prefix = 'u'): Promise<DovecotUser> {
  const user = { name: `${prefix}${randomBytes(5).toString('hex')}`, password: randomBytes(9).toString('base64url') };
  await appendFile(path.join(testEnv.dovecotDir(), 'passwd'), `${user.name}:{PLAIN}${user.password}\n`);
  // Dovecot checks the passwd-file for changes at most once a second: wait until it knows the user.
  await waitFor(`Dovecot to know user ${user.name}`, async () => {
    await run('doveadm', ['-c', conf(), 'user', user.name]);
    return true;
  }, 10_000, 200);
  return user;
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
export async function countOnServer(user: DovecotUser): Promise<number> {
  const { stdout } = await run('doveadm', ['-c', conf(), '-f', 'flow', 'mailbox', 'status', '-u', user.name, 'messages', 'INBOX']);
  return Number(/messages=(\d+)/.exec(stdout)?.[1] ?? NaN);
}

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
