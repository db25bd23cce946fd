import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DovecotUser } from './dovecot';
import { testEnv } from './env';

const run = promisify(execFile);

/**
 * Writes many messages straight into a user's Maildir on the test Dovecot, far faster than one
 * `doveadm save` each; Dovecot gives them UIDs in the order of their file names when it next
 * opens the folder. With `uidvalidity`, the folder gets that UIDVALIDITY (and so, with the
 * test Dovecot's UIDL format, predictable UIDLs: two users written alike share their UIDLs).
 */
export async function writeMaildir(
  user: DovecotUser,
  count: number,
  message: (i: number) => Buffer,
  options: { uidvalidity?: number } = {},
): Promise<void> {
  const dir = path.join(testEnv.dovecotDir(), 'home', user.name, 'Maildir');
  for (const sub of ['cur', 'new', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
  if (options.uidvalidity !== undefined) {
    await writeFile(path.join(dir, 'dovecot-uidlist'), `3 V${options.uidvalidity} N1 G${randomBytes(16).toString('hex')}\n`);
  }
  const width = String(count).length;
  for (let start = 0; start < count; start += 500) {
    const writes: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const name = `1700000000.M${String(i).padStart(width, '0')}P1.mailpull:2,`;
      writes.push(writeFile(path.join(dir, 'cur', name), message(i)));
    }
    await Promise.all(writes);
  }
  await run('chown', ['-R', 'mail:mail', path.join(testEnv.dovecotDir(), 'home', user.name)]);
}
