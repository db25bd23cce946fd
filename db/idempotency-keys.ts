import type { Queryable } from './pool';

/** How long an answer is kept: a retry later than this runs as a new request. */
export const IDEMPOTENCY_KEY_HOURS = 24;
/** A claim older than this whose request never finished (its API process died) may be taken over. */
const ABANDONED_CLAIM = '5 minutes';
/** Expired keys removed per claim: more than are claimed, so the table stays at a day's keys. */
const PURGE_BATCH = 100;

/** What a key holds when a request comes with it. */
export type IdempotencyClaim =
  | { kind: 'claimed' }
  | { kind: 'running'; fingerprint: Buffer }
  | { kind: 'answered'; fingerprint: Buffer; status: number; keyId: string; sealedAnswer: Buffer };

const LIVE = `created_at >= now() - interval '${IDEMPOTENCY_KEY_HOURS} hours'`;

/**
 * Claims the token's key for this request, or says what holds it: a request still running, or
 * the answer of one that finished. An expired key, or an abandoned claim, is taken over.
 */
export async function claimIdempotencyKey(db: Queryable, tokenId: string, key: string, fingerprint: Buffer): Promise<IdempotencyClaim> {
  await db.query(
    `DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
       SELECT ctid FROM idempotency_keys WHERE NOT (${LIVE}) LIMIT ${PURGE_BATCH}))`,
  );
  // the held key can be released between the insert and the select: then claim again
  for (let attempt = 0; attempt < 3; attempt++) {
    const claimed = await db.query(
      `INSERT INTO idempotency_keys (token_id, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (token_id, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status = NULL, key_id = NULL, sealed_answer = NULL, created_at = now()
         WHERE NOT (idempotency_keys.${LIVE})
            OR (idempotency_keys.status IS NULL AND idempotency_keys.created_at < now() - interval '${ABANDONED_CLAIM}')
       RETURNING 1`,
      [tokenId, key, fingerprint],
    );
    if (claimed.rowCount) return { kind: 'claimed' };
    const { rows } = await db.query<{ fingerprint: Buffer; status: number | null; key_id: string | null; sealed_answer: Buffer | null }>(
      'SELECT fingerprint, status, key_id, sealed_answer FROM idempotency_keys WHERE token_id = $1 AND key = $2',
      [tokenId, key],
    );
    const row = rows[0];
    if (!row) continue;
    if (row.status === null || row.key_id === null || row.sealed_answer === null) return { kind: 'running', fingerprint: row.fingerprint };
    return { kind: 'answered', fingerprint: row.fingerprint, status: row.status, keyId: row.key_id, sealedAnswer: row.sealed_answer };
  }
  throw new Error('the Idempotency-Key was claimed and released three times meanwhile');
}

/** Keeps the answer of the request that holds the key. */
export async function saveIdempotentAnswer(
  db: Queryable,
  tokenId: string,
  key: string,
  answer: { status: number; keyId: string; sealedAnswer: Buffer },
): Promise<void> {
  await db.query('UPDATE idempotency_keys SET status = $3, key_id = $4, sealed_answer = $5 WHERE token_id = $1 AND key = $2', [
    tokenId,
    key,
    answer.status,
    answer.keyId,
    answer.sealedAnswer,
  ]);
}

/** Lets the key go without an answer: the request created nothing, and may be sent again. */
export async function releaseIdempotencyKey(db: Queryable, tokenId: string, key: string): Promise<void> {
  await db.query('DELETE FROM idempotency_keys WHERE token_id = $1 AND key = $2 AND status IS NULL', [tokenId, key]);
}
