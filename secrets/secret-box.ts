import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A 256-bit key and the id stored beside everything it seals. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The id is derived from the key, so the same key always has the same id and ids cannot be mixed up. */
export function secretKey(key: Buffer): SecretKey {
  if (key.length !== 32) throw new Error(`a secret key must be 32 bytes (base64 of 32 random bytes), got ${key.length}`);
  return { id: createHash('sha256').update('mailpull-key-id\0').update(key).digest('hex').slice(0, 16), key };
}

export const generateKey = (): string => randomBytes(32).toString('base64');

/**
 * AES-256-GCM. `context` (account id and secret name) is authenticated, so a sealed value
 * copied onto another account or field does not open.
 */
export function seal(key: SecretKey, plaintext: string, context: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]);
}

export function open(key: SecretKey, sealed: Buffer, context: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(sealed.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
