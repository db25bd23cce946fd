import { chown, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildMessage, textOfSize } from '../testkit/messages';

/** Deterministic pseudo-random numbers, so every run collects the same mailbox. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Sizes like a real mailbox: most messages are a few kB of text, one in ten carries an
 * attachment of tens to hundreds of kB, one in a hundred a few MB.
 */
export function realisticSizes(count: number, seed = 42): number[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    const r = random();
    if (r < 0.01) return 1_000_000 + Math.floor(random() * 4_000_000);
    if (r < 0.11) return 30_000 + Math.floor(random() * 400_000);
    return 1_500 + Math.floor(random() * 25_000);
  });
}

export function realisticCorpus(count: number): Buffer[] {
  return realisticSizes(count).map((size, i) => buildMessage({ subject: `bench ${i}`, body: textOfSize(size) }));
}

/** Puts messages straight into a Dovecot user's Maildir (much faster than doveadm save per message). */
export async function fillMaildir(dovecotDir: string, user: string, messages: readonly Buffer[]): Promise<void> {
  const maildir = path.join(dovecotDir, 'home', user, 'Maildir');
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    await mkdir(path.join(maildir, sub), { recursive: true });
  }
  const owned = [path.join(dovecotDir, 'home', user), maildir, ...['new', 'cur', 'tmp'].map((s) => path.join(maildir, s))];
  const base = Math.floor(Date.now() / 1000);
  for (const [i, message] of messages.entries()) {
    const file = path.join(maildir, 'new', `${base}.M${i}P1.bench`);
    // Dovecot stores LF line endings in Maildir and serves CRLF
    await writeFile(file, message.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    owned.push(file);
  }
  for (const p of owned) await chown(p, 8, 8); // Debian's "mail" user, as in scripts/dovecot.sh
}
