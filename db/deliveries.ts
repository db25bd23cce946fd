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

/** Records that a target accepted the message for a recipient; a second record is a no-op. */
export async function recordDelivery(
  db: Queryable,
  ref: SourceRef,
  delivery: { accountId: string; targetId: string; contentHash: string; response: string },
): Promise<void> {
  await db.query(
    `INSERT INTO deliveries (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, account_id,
                             delivery_target_id, content_hash, response)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
    [
      ref.externalAccountId,
      ref.folder,
      ref.uidvalidity,
      ref.uid,
      ref.generation,
      delivery.accountId,
      delivery.targetId,
      delivery.contentHash,
      delivery.response.slice(0, 1000),
    ],
  );
}
