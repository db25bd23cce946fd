import type { IndexedMessage } from '../core/delete-policy';
import type { ServerMessage } from '../core/download-plan';
import type { Queryable } from './pool';

/** Records server messages not seen before (first-seen time = now); returns how many were new. */
export async function recordSeen(db: Queryable, accountId: string, messages: readonly ServerMessage[]): Promise<number> {
  if (messages.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO uid_index (external_account_id, uid, size)
     SELECT $1, u, s FROM unnest($2::text[], $3::bigint[]) AS t(u, s)
     ON CONFLICT DO NOTHING`,
    [accountId, messages.map((m) => m.uid), messages.map((m) => m.size)],
  );
  return rowCount ?? 0;
}

export async function loadIndex(db: Queryable, accountId: string): Promise<Map<string, IndexedMessage>> {
  const { rows } = await db.query<IndexedMessage>(
    `SELECT uid, first_seen_at AS "firstSeenAt", delivered_at AS "deliveredAt"
       FROM uid_index WHERE external_account_id = $1 AND folder = '' AND uidvalidity = ''`,
    [accountId],
  );
  return new Map(rows.map((r) => [r.uid, r]));
}

/** Marks a message delivered; called in the same transaction that stores it. */
export async function markDelivered(
  db: Queryable,
  accountId: string,
  message: ServerMessage,
  recipientCount: number,
): Promise<void> {
  await db.query(
    `INSERT INTO uid_index (external_account_id, uid, size, delivered_at, recipient_count) VALUES ($1, $2, $3, now(), $4)
     ON CONFLICT (external_account_id, folder, uidvalidity, uid)
     DO UPDATE SET delivered_at = COALESCE(uid_index.delivered_at, now()), recipient_count = $4`,
    [accountId, message.uid, message.size, recipientCount],
  );
}

export async function markRemoved(db: Queryable, accountId: string, uids: readonly string[]): Promise<void> {
  if (uids.length === 0) return;
  await db.query(
    `UPDATE uid_index SET deleted_at = now()
      WHERE external_account_id = $1 AND folder = '' AND uidvalidity = '' AND uid = ANY($2::text[])`,
    [accountId, uids],
  );
}
