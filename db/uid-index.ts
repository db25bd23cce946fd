import type { IndexedMessage } from '../core/delete-policy';
import { messageKey, type MessageRef, type ServerMessage } from '../core/download-plan';
import type { StoredCopies } from '../core/recognition';
import type { FolderCursor, FolderListing } from '../mail/source';
import type { Queryable } from './pool';

/** Folder, UIDVALIDITY and UID as three parallel arrays, for unnest() in a query. */
const refColumns = (refs: readonly MessageRef[]): [string[], string[], string[]] => [
  refs.map((r) => r.folder),
  refs.map((r) => r.uidvalidity),
  refs.map((r) => r.uid),
];

/** Records server messages not seen before (first-seen time = now); returns how many were new. */
export async function recordSeen(db: Queryable, accountId: string, messages: readonly ServerMessage[]): Promise<number> {
  if (messages.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO uid_index (external_account_id, folder, uidvalidity, uid, size)
     SELECT $1, f, v, u, s FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS t(f, v, u, s)
     ON CONFLICT DO NOTHING`,
    [accountId, ...refColumns(messages), messages.map((m) => m.size)],
  );
  return rowCount ?? 0;
}

/** The index entries still on the server as far as mailpull knows, keyed by messageKey. */
export async function loadIndex(db: Queryable, accountId: string): Promise<Map<string, IndexedMessage>> {
  const { rows } = await db.query<IndexedMessage>(
    `SELECT folder, uidvalidity, uid, first_seen_at AS "firstSeenAt", delivered_at AS "deliveredAt"
       FROM uid_index WHERE external_account_id = $1 AND deleted_at IS NULL`,
    [accountId],
  );
  return new Map(rows.map((r) => [messageKey(r), r]));
}

/** The messageKeys of those listed messages mailpull holds already (delivered, stored or held for a target). */
export async function collectedAmong(db: Queryable, accountId: string, messages: readonly MessageRef[]): Promise<Set<string>> {
  if (messages.length === 0) return new Set();
  const { rows } = await db.query<MessageRef>(
    `SELECT i.folder, i.uidvalidity, i.uid
       FROM uid_index i JOIN unnest($2::text[], $3::text[], $4::text[]) AS t(f, v, u)
         ON i.folder = t.f AND i.uidvalidity = t.v AND i.uid = t.u
      WHERE i.external_account_id = $1 AND i.collected_at IS NOT NULL`,
    [accountId, ...refColumns(messages)],
  );
  return new Set(rows.map(messageKey));
}

/** Per IMAP folder: UIDVALIDITY, highest UID seen and the undelivered UIDs. */
export async function loadCursors(db: Queryable, accountId: string): Promise<FolderCursor[]> {
  const { rows } = await db.query<FolderCursor & { highestUid: string }>(
    `SELECT s.folder, s.uidvalidity, s.highest_uid AS "highestUid",
            COALESCE(array_agg(i.uid ORDER BY i.uid::bigint) FILTER (WHERE i.uid IS NOT NULL), '{}') AS "pendingUids"
       FROM folder_state s
       LEFT JOIN uid_index i ON i.external_account_id = s.external_account_id AND i.folder = s.folder
            AND i.uidvalidity = s.uidvalidity AND i.collected_at IS NULL AND i.deleted_at IS NULL
      WHERE s.external_account_id = $1
      GROUP BY s.folder, s.uidvalidity, s.highest_uid`,
    [accountId],
  );
  return rows.map((r) => ({ ...r, highestUid: Number(r.highestUid) }));
}

/** Saves what a listing learned about each folder; returns the folders whose UIDVALIDITY changed. */
export async function saveFolderListings(db: Queryable, accountId: string, folders: readonly FolderListing[]): Promise<string[]> {
  for (const f of folders) {
    await db.query(
      `INSERT INTO folder_state (external_account_id, folder, uidvalidity, highest_uid, resynced_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END)
       ON CONFLICT (external_account_id, folder) DO UPDATE
         SET uidvalidity = $3,
             highest_uid = CASE WHEN folder_state.uidvalidity = $3 THEN GREATEST(folder_state.highest_uid, $4) ELSE $4 END,
             resynced_at = CASE WHEN $5 THEN now() ELSE folder_state.resynced_at END`,
      [accountId, f.folder, f.uidvalidity, f.highestUid, f.resynced],
    );
  }
  return folders.filter((f) => f.resynced).map((f) => f.folder);
}

/**
 * Marks a message collected, and delivered unless `held` (a target has yet to take it); in the
 * transaction that stores, records or holds it.
 */
export async function markDelivered(
  db: Queryable,
  accountId: string,
  message: ServerMessage,
  delivery: { recipientCount: number; contentHash: string; recognized: boolean; held?: boolean },
): Promise<void> {
  await db.query(
    `INSERT INTO uid_index (external_account_id, folder, uidvalidity, uid, size, collected_at, delivered_at, recipient_count, content_hash, recognized)
     VALUES ($1, $2, $3, $4, $5, now(), CASE WHEN $9 THEN NULL ELSE now() END, $6, $7, $8)
     ON CONFLICT (external_account_id, folder, uidvalidity, uid)
     DO UPDATE SET collected_at = COALESCE(uid_index.collected_at, now()),
                   delivered_at = CASE WHEN $9 THEN uid_index.delivered_at ELSE COALESCE(uid_index.delivered_at, now()) END,
                   recipient_count = $6, content_hash = $7, recognized = $8`,
    [
      accountId,
      message.folder,
      message.uidvalidity,
      message.uid,
      message.size,
      delivery.recipientCount,
      delivery.contentHash,
      delivery.recognized,
      delivery.held ?? false,
    ],
  );
}

/** A held message has reached every recipient or quarantine: the delete policy may now remove it. */
export async function markHeldDone(db: Queryable, accountId: string, ref: MessageRef): Promise<void> {
  await db.query(
    `UPDATE uid_index SET delivered_at = COALESCE(delivered_at, now())
      WHERE external_account_id = $1 AND folder = $2 AND uidvalidity = $3 AND uid = $4`,
    [accountId, ref.folder, ref.uidvalidity, ref.uid],
  );
}

/** Copies of these contents that earlier batches recognised, per folder and UIDVALIDITY. */
export async function recognizedCopies(db: Queryable, accountId: string, hashes: readonly string[]): Promise<StoredCopies[]> {
  const { rows } = await db.query<StoredCopies & { count: string }>(
    `SELECT folder, uidvalidity, content_hash AS "contentHash", count(*) AS count
       FROM uid_index WHERE external_account_id = $1 AND recognized AND content_hash = ANY($2::text[])
      GROUP BY 1, 2, 3`,
    [accountId, hashes],
  );
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export async function markRemoved(db: Queryable, accountId: string, refs: readonly MessageRef[]): Promise<void> {
  if (refs.length === 0) return;
  await db.query(
    `UPDATE uid_index SET deleted_at = now()
      FROM unnest($2::text[], $3::text[], $4::text[]) AS t(f, v, u)
     WHERE external_account_id = $1 AND folder = t.f AND uidvalidity = t.v AND uid = t.u`,
    [accountId, ...refColumns(refs)],
  );
}
