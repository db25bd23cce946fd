import type { RecipientHome } from '../core/delivery-routing';
import type { Queryable } from './pool';

/** One remote message as delivered for one generation of the account's index. */
export interface SourceRef {
  externalAccountId: string;
  folder: string;
  uidvalidity: string;
  uid: string;
  generation: number;
}

/** Each recipient's address and the delivery target of its domain (null: the built-in store). */
export async function recipientHomes(db: Queryable, accountIds: readonly string[]): Promise<Map<string, RecipientHome>> {
  if (accountIds.length === 0) return new Map();
  const { rows } = await db.query<RecipientHome>(
    `SELECT a.id AS "accountId", a.address, d.delivery_target_id AS "domainTargetId"
       FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = ANY($1::uuid[])`,
    [accountIds],
  );
  return new Map(rows.map((r) => [r.accountId, r]));
}

export const recipientKey = (ref: Omit<SourceRef, 'externalAccountId' | 'generation'>, accountId: string): string =>
  `${ref.folder}\u0000${ref.uidvalidity}\u0000${ref.uid}\u0000${accountId}`;

/**
 * The (message, recipient) pairs of these messages that already have the message, through a
 * target or in the built-in store ('kept'), or are held for it ('held': a target has yet to take
 * it): a retry or a reset index never gives them a second copy.
 */
export async function alreadyDelivered(
  db: Queryable,
  externalAccountId: string,
  generation: number,
  refs: readonly Omit<SourceRef, 'externalAccountId' | 'generation'>[],
): Promise<Map<string, 'kept' | 'held'>> {
  if (refs.length === 0) return new Map();
  const { rows } = await db.query<{ folder: string; uidvalidity: string; uid: string; account_id: string; held: boolean }>(
    `WITH wanted AS (SELECT * FROM unnest($3::text[], $4::text[], $5::text[]) AS t(f, v, u))
     SELECT source_folder AS folder, source_uidvalidity AS uidvalidity, source_uid AS uid, account_id, held
       FROM kept_copies JOIN wanted ON source_folder = f AND source_uidvalidity = v AND source_uid = u
      WHERE external_account_id = $1 AND delivery_generation = $2 AND account_id IS NOT NULL`,
    [externalAccountId, generation, refs.map((r) => r.folder), refs.map((r) => r.uidvalidity), refs.map((r) => r.uid)],
  );
  return new Map(rows.map((r) => [recipientKey(r, r.account_id), r.held ? 'held' : 'kept']));
}

/**
 * Which recipients targets accepted these messages for, each in its own generation: a retry of a
 * held message leaves them out, whatever became of the transaction that followed.
 */
export async function acceptedRecipients(db: Queryable, externalAccountId: string, refs: readonly SourceRef[]): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const { rows } = await db.query<{ folder: string; uidvalidity: string; uid: string; generation: number; account_id: string }>(
    `SELECT source_folder AS folder, source_uidvalidity AS uidvalidity, source_uid AS uid, delivery_generation AS generation, account_id
       FROM deliveries JOIN unnest($2::text[], $3::text[], $4::text[], $5::int[]) AS t(f, v, u, g)
         ON source_folder = f AND source_uidvalidity = v AND source_uid = u AND delivery_generation = g
      WHERE external_account_id = $1`,
    [externalAccountId, refs.map((r) => r.folder), refs.map((r) => r.uidvalidity), refs.map((r) => r.uid), refs.map((r) => r.generation)],
  );
  return new Set(rows.map((r) => acceptedKey(r, r.account_id)));
}

export const acceptedKey = (ref: Omit<SourceRef, 'externalAccountId'>, accountId: string): string =>
  `${ref.generation}\u0000${recipientKey(ref, accountId)}`;

/**
 * Records at once, on its own, that a target accepted the message for these recipients: before
 * any transaction that could roll it back, so no retry sends it to them again. A second record is
 * a no-op.
 */
export async function recordDeliveries(
  db: Queryable,
  ref: SourceRef,
  by: { targetId: string; contentHash: string },
  accepted: readonly { accountId: string; response: string }[],
): Promise<void> {
  if (accepted.length === 0) return;
  await db.query(
    `INSERT INTO deliveries (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, account_id,
                             delivery_target_id, content_hash, response)
     SELECT $1, $2, $3, $4, $5, a, $6, $7, r FROM unnest($8::uuid[], $9::text[]) AS t(a, r)
     ON CONFLICT DO NOTHING`,
    [
      ref.externalAccountId,
      ref.folder,
      ref.uidvalidity,
      ref.uid,
      ref.generation,
      by.targetId,
      by.contentHash,
      accepted.map((d) => d.accountId),
      accepted.map((d) => d.response.slice(0, 1000)),
    ],
  );
}
