import { readFileSync, statSync } from 'node:fs';
import { secretKey, type SecretKey } from './secret-box';
import type { KeySource } from '../core/config';

/** The keys secrets are sealed with: the first is the active one, the rest only open older secrets. */
export interface Keyring {
  active(): SecretKey;
  find(id: string): SecretKey | undefined;
}

/** Keys as base64 of 32 bytes, newest first, one per line or comma-separated; `#` starts a comment. */
export function parseKeys(text: string, origin: string): SecretKey[] {
  const entries = text
    .split('\n')
    .map((line) => line.replace(/#.*/, ''))
    .flatMap((line) => line.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error(`${origin} holds no key`);
  return entries.map((entry, i) => {
    const bytes = Buffer.from(entry, 'base64');
    if (bytes.length !== 32 || bytes.toString('base64') !== entry) {
      throw new Error(`${origin}: key ${i + 1} is not base64 of 32 bytes (make one with: scripts/mailpull.sh keys generate)`);
    }
    return secretKey(bytes);
  });
}

function ring(keys: () => SecretKey[]): Keyring {
  return {
    active: () => keys()[0],
    find: (id) => keys().find((k) => k.id === id),
  };
}

/**
 * A key file is read again whenever it changes, so a running worker or API picks up a rotated
 * key without a restart (scripts/mailpull.sh secrets rotate writes the new key first in the file).
 */
function fileKeyring(path: string): Keyring {
  let cached: { mtimeMs: number; size: number; keys: SecretKey[] } | null = null;
  return ring(() => {
    const stat = statSync(path);
    if (!cached || cached.mtimeMs !== stat.mtimeMs || cached.size !== stat.size) {
      cached = { mtimeMs: stat.mtimeMs, size: stat.size, keys: parseKeys(readFileSync(path, 'utf8'), path) };
    }
    return cached.keys;
  });
}

export function loadKeyring(source: KeySource): Keyring {
  if (source.kind === 'file') {
    const keyring = fileKeyring(source.path);
    keyring.active();
    return keyring;
  }
  const keys = parseKeys(source.value, 'MAILPULL_SECRET_KEY');
  return ring(() => keys);
}
