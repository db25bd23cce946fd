import type { MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createHash } from 'node:crypto';
import { IDEMPOTENCY_KEY_HOURS, claimIdempotencyKey, releaseIdempotencyKey, saveIdempotentAnswer } from '../db/idempotency-keys';
import type { Pool } from '../db/pool';
import type { Keyring } from '../secrets/keyring';
import { open, seal } from '../secrets/secret-box';
import { tokenOf } from './auth';
import { ApiError, conflict, invalid } from './http-errors';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer given again for a key, rather than by running the request. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** What identifies a request: the same key with another fingerprint is refused. */
export function requestFingerprint(method: string, path: string, body: Uint8Array): Buffer {
  return createHash('sha256').update(`${method} ${path}\n`).update(body).digest();
}

const context = (tokenId: string, key: string): string => `idempotency:${tokenId}:${key}`;

/**
 * Idempotency-Key on the routes that create: the first request with a key runs and its 2xx answer
 * is kept 24 hours (sealed: a new webhook's answer holds its secret); the same request again gets
 * that answer (with Idempotent-Replayed: true) and creates nothing. The same key with another
 * method, path or body is 422; while the first still runs, 409. An answer that is not 2xx created
 * nothing and is not kept: the key may be used again.
 */
export function idempotentCreates(pool: Pool, keyring: Keyring): MiddlewareHandler {
  return async (c, next) => {
    const key = c.req.header(IDEMPOTENCY_HEADER);
    if (c.req.method !== 'POST' || key === undefined) return next();
    if (!KEY.test(key)) throw invalid(IDEMPOTENCY_HEADER, 'must be 1 to 255 visible ASCII characters, e.g. a UUID');
    const token = tokenOf(c.req.raw);
    // requireToken runs before: without a token this is a wiring mistake
    if (!token) throw new Error(`no API token on ${c.req.method} ${c.req.path}`);
    const fingerprint = requestFingerprint(c.req.method, c.req.path, new Uint8Array(await c.req.arrayBuffer()));
    const claim = await claimIdempotencyKey(pool, token.id, key, fingerprint);
    if (claim.kind !== 'claimed' && !claim.fingerprint.equals(fingerprint)) {
      throw new ApiError(422, {
        error: 'idempotency_key_reused',
        message: `${IDEMPOTENCY_HEADER}: this key came with another request (method, path or body) in the last ${IDEMPOTENCY_KEY_HOURS} hours; use a new key for a new request`,
        field: IDEMPOTENCY_HEADER,
      });
    }
    if (claim.kind === 'running') {
      throw conflict(
        `${IDEMPOTENCY_HEADER}: the first request with this key is still being answered; send it again in a moment`,
        IDEMPOTENCY_HEADER,
      );
    }
    if (claim.kind === 'answered') {
      const sealingKey = keyring.find(claim.keyId);
      if (!sealingKey) {
        throw conflict(
          `${IDEMPOTENCY_HEADER}: the answer to this key was sealed with a secret key no longer configured; list the objects to find the one it created`,
          IDEMPOTENCY_HEADER,
        );
      }
      const answer = open(sealingKey, claim.sealedAnswer, context(token.id, key));
      return c.body(answer, claim.status as ContentfulStatusCode, { 'Content-Type': 'application/json', [REPLAYED_HEADER]: 'true' });
    }
    try {
      await next();
    } finally {
      if (c.res.ok) {
        const sealingKey = keyring.active();
        const answer = await c.res.clone().text();
        await saveIdempotentAnswer(pool, token.id, key, {
          status: c.res.status,
          keyId: sealingKey.id,
          sealedAnswer: seal(sealingKey, answer, context(token.id, key)),
        });
      } else {
        await releaseIdempotencyKey(pool, token.id, key);
      }
    }
  };
}
