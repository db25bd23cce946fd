import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export type TokenScope = 'admin' | 'read';

const TOKEN = /^mpt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** A new token: the id is looked up, the secret only ever compared by its hash. */
export function newApiToken(): { id: string; token: string; secretHash: Buffer } {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `mpt_${id}_${secret}`, secretHash: hashSecret(secret) };
}

export function parseApiToken(token: string): { id: string; secret: string } | null {
  const match = TOKEN.exec(token);
  return match ? { id: match[1], secret: match[2] } : null;
}

// The secret is 256 random bits, so a fast hash is enough: nothing to brute-force.
const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

/** Constant time: how long it takes says nothing about how much of the secret was right. */
export function secretMatches(secret: string, secretHash: Buffer): boolean {
  const hash = hashSecret(secret);
  return hash.length === secretHash.length && timingSafeEqual(hash, secretHash);
}
