import type { IndexedMessage } from '../core/delete-policy';
import { messageKey, takeBatch, type MessageRef, type ServerMessage } from '../core/download-plan';
import type { StoredCopies } from '../core/recognition';
import type { Queryable } from './pool';
import type { FolderCursor, FolderListing } from '../core/mailbox-endpoint';
import { tryLockAccountForTransaction } from './account-lock';
import { placeListed, type CollectedCopies, type KnownIncarnation } from '../core/pop3-identity';

/** Folder, UIDVALIDITY and UID as three parallel arrays, for unnest() in a query. */
const refColumns = (refs: readonly MessageRef[]): [string[], string[], string[]] => [
  refs.map((r) => r.folder),
  refs.map((r) => r.uidvalidity),
  refs.map((r) => r.uid),
];

/** How a message's position on the server orders downloads: the IMAP UID, the POP3 message number, else the listing order. */
const positionOf = (m: ServerMessage, i: number): number => {
  const uid = Number(m.uid);
  if (m.folder !== '' && Number.isSafeInteger(uid)) return uid;
  return m.number ?? i;
};

export interface RecordedListing {
  /** messages mailpull had never seen (a UIDL reused for a new message counts as one) */
  inserted: number;
  /** the listed messages under their index keys (a POP3 message's incarnation filled in) */
  messages: ServerMessage[];
}

/**
 * Records one listing of the server: messages not seen before (first-seen time = now) and, for
 * those not collected yet, what downloading them needs (size, folder, date, flags, position). A
 * message marked gone that is listed again and not collected is waited for again. POP3 messages
 * are matched to their incarnation first (see core/pop3-identity.ts).
 */
export async function recordListing(db: Queryable, accountId: string, listed: readonly ServerMessage[]): Promise<RecordedListing> {
  if (listed.length === 0) return { inserted: 0, messages: [] };
  const messages = await placePop3(db, accountId, listed);
  const { rows } = await db.query<{ inserted: string }>(
    `WITH up AS (
       INSERT INTO uid_index AS i (external_account_id, folder, uidvalidity, uid, size, local_folder, internal_date, flags, list_position)
       SELECT $1, f, v, u, s, l, d, COALESCE(string_to_array(g, E'\\n'), '{}'), p
         FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::timestamptz[], $8::text[], $9::bigint[])
           AS t(f, v, u, s, l, d, g, p)
       ON CONFLICT (external_account_id, folder, uidvalidity, uid) DO UPDATE
         SET size = EXCLUDED.size, local_folder = EXCLUDED.local_folder, internal_date = EXCLUDED.internal_date,
             flags = EXCLUDED.flags, list_position = EXCLUDED.list_position, deleted_at = NULL
         WHERE i.collected_at IS NULL
       RETURNING xmax = 0 AS inserted)
     SELECT count(*) FILTER (WHERE inserted) AS inserted FROM up`,
    [
      accountId,
      ...refColumns(messages),
      messages.map((m) => m.size),
      messages.map((m) => m.localFolder),
      messages.map((m) => m.internalDate),
      messages.map((m) => (m.flags.length > 0 ? m.flags.join('\n') : null)),
      messages.map(positionOf),
    ],
  );
  return { inserted: Number(rows[0].inserted), messages };
}

/**
 * POP3 messages with the incarnation each is recorded as; collected incarnations whose UIDL now
 * names another message are marked no longer on the server.
 */
async function placePop3(db: Queryable, accountId: string, listed: readonly ServerMessage[]): Promise<ServerMessage[]> {
  const pop3 = listed.filter((m) => m.folder === '');
  if (pop3.length === 0) return [...listed];
  const { rows } = await db.query<KnownIncarnation & { uid: string; size: string }>(
    `SELECT uid, uidvalidity AS incarnation, size, collected_at IS NOT NULL AS collected, deleted_at IS NOT NULL AS gone
       FROM uid_index WHERE external_account_id = $1 AND folder = '' AND uid = ANY($2::text[])
      ORDER BY first_seen_at, uidvalidity`,
    [accountId, pop3.map((m) => m.uid)],
  );
  const known = new Map<string, KnownIncarnation[]>();
  for (const { uid, ...row } of rows) known.set(uid, [...(known.get(uid) ?? []), { ...row, size: Number(row.size) }]);
  const fresh = `seen-again-${new Date().toISOString()}`;
  const retired: MessageRef[] = [];
  const placed = listed.map((m) => {
    if (m.folder !== '') return m;
    const { incarnation, retire } = placeListed(m.size, known.get(m.uid) ?? [], fresh);
    if (retire !== null) retired.push({ folder: '', uidvalidity: retire, uid: m.uid });
    return { ...m, uidvalidity: incarnation };
  });
  await markRemoved(db, accountId, retired);
  return placed;
}

/**
 * Messages of the listed folders that the listing no longer shows were removed from the server
 * by someone else: undelivered ones are no longer waited for. With `complete` (a POP3 listing
 * shows every message, an IMAP one only the new and the pending) collected ones are marked gone
 * too, so their UIDL seen again is a new message. The difference is taken here, in linear time,
 * rather than by an anti-join the planner may run as a nested loop.
 */
export async function markVanished(
  db: Queryable,
  accountId: string,
  folders: readonly string[],
  listed: readonly MessageRef[],
  complete: boolean,
): Promise<number> {
  const { rows } = await db.query<MessageRef>(
    `SELECT folder, uidvalidity, uid FROM uid_index
      WHERE external_account_id = $1 AND ($3 OR collected_at IS NULL) AND deleted_at IS NULL AND folder = ANY($2::text[])`,
    [accountId, folders, complete],
  );
  const onServer = new Set(listed.map(messageKey));
  const vanished = rows.filter((r) => !onServer.has(messageKey(r)));
  await markRemoved(db, accountId, vanished);
  return vanished.length;
}

/** Messages a download asked for that the server no longer had. */
export async function markGone(db: Queryable, accountId: string, refs: readonly MessageRef[]): Promise<void> {
  if (refs.length === 0) return;
  await db.query(
    `UPDATE uid_index SET deleted_at = now()
      FROM unnest($2::text[], $3::text[], $4::text[]) AS t(f, v, u)
     WHERE external_account_id = $1 AND folder = t.f AND uidvalidity = t.v AND uid = t.u AND collected_at IS NULL`,
    [accountId, ...refColumns(refs)],
  );
}

export interface DownloadLimits {
  maxMessages: number;
  /** a single larger message still goes alone */
  maxBytes: number;
  /** the account's size limit: larger messages are left on the server */
  maxMessageBytes: number;
}

interface PendingRow {
  folder: string;
  uidvalidity: string;
  uid: string;
  size: string;
  localFolder: string;
  internalDate: Date | null;
  flags: string[];
  position: string;
}

/**
 * The message is in a folder the last listing collected (POP3: its one folder ''); the rows of a
 * folder since excluded or gone from the server wait, neither fetched nor counted as pending.
 */
const IN_COLLECTED_FOLDER = `(folder = '' OR EXISTS (SELECT 1 FROM folder_state s
  WHERE s.external_account_id = uid_index.external_account_id AND s.folder = uid_index.folder AND s.listed))`;

/** How long an uncollected IMAP message marked gone is looked for again, in case a listing missed it. */
const GONE_RECHECK = '7 days';

/**
 * The next messages to download, from the index alone: undelivered, on the server when last
 * listed, within the size limit; messages that failed before go last, so they never block the rest.
 * `exclude`: messages already on their way (downloaded, their commit not known yet).
 */
export async function nextDownloads(
  db: Queryable,
  accountId: string,
  limits: DownloadLimits,
  exclude: readonly MessageRef[] = [],
): Promise<ServerMessage[]> {
  const { rows } = await db.query<PendingRow>(
    `SELECT folder, uidvalidity, uid, size, local_folder AS "localFolder", internal_date AS "internalDate", flags, list_position AS position
       FROM uid_index
      WHERE external_account_id = $1 AND collected_at IS NULL AND deleted_at IS NULL AND skipped_at IS NULL
        AND COALESCE(oversize_bytes, size) <= $2 AND ${IN_COLLECTED_FOLDER}
        AND (folder, uidvalidity, uid) NOT IN (SELECT * FROM unnest($4::text[], $5::text[], $6::text[]))
      ORDER BY failures, first_seen_at, list_position
      LIMIT $3`,
    [accountId, limits.maxMessageBytes, limits.maxMessages, ...refColumns(exclude)],
  );
  return takeBatch(
    rows.map(({ position, ...r }) => ({ ...r, size: Number(r.size), ...(r.folder === '' ? { number: Number(position) } : {}) })),
    limits.maxBytes,
  );
}

/** The account's undelivered messages on the server: to download, too large, given up. */
export interface DownloadCounts {
  /** undelivered messages that will be downloaded */
  toDownload: number;
  /** undelivered messages over the size limit (declared or received), left on the server */
  tooLarge: number;
  /** given up after repeated failed fetches, left on the server */
  skipped: number;
}

export async function downloadCounts(db: Queryable, accountId: string, maxMessageBytes: number): Promise<DownloadCounts> {
  const { rows } = await db.query<{ to_download: string; too_large: string; skipped: string }>(
    `SELECT count(*) FILTER (WHERE skipped_at IS NULL AND COALESCE(oversize_bytes, size) <= $2) AS to_download,
            count(*) FILTER (WHERE skipped_at IS NULL AND COALESCE(oversize_bytes, size) > $2) AS too_large,
            count(*) FILTER (WHERE skipped_at IS NOT NULL) AS skipped
       FROM uid_index WHERE external_account_id = $1 AND collected_at IS NULL AND deleted_at IS NULL AND ${IN_COLLECTED_FOLDER}`,
    [accountId, maxMessageBytes],
  );
  return { toDownload: Number(rows[0].to_download), tooLarge: Number(rows[0].too_large), skipped: Number(rows[0].skipped) };
}

/** The server sent more of a message than the size limit allows: it stays there, as too large. */
export async function markOversize(db: Queryable, accountId: string, ref: MessageRef, receivedBytes: number): Promise<void> {
  await db.query(
    `UPDATE uid_index SET oversize_bytes = $5
      WHERE external_account_id = $1 AND folder = $2 AND uidvalidity = $3 AND uid = $4`,
    [accountId, ref.folder, ref.uidvalidity, ref.uid, receivedBytes],
  );
}

/**
 * Counts a failed attempt at one message and returns how many there were. With `skipAfter`, a
 * message that failed that often is given up (left on the server, shown in the status).
 */
export async function noteFailure(db: Queryable, accountId: string, ref: MessageRef, reason: string, skipAfter?: number): Promise<number> {
  const { rows } = await db.query<{ failures: number }>(
    `UPDATE uid_index SET failures = failures + 1, last_failure = left($5, 1000),
            skipped_at = CASE WHEN $6::int IS NOT NULL AND failures + 1 >= $6::int THEN now() END
      WHERE external_account_id = $1 AND folder = $2 AND uidvalidity = $3 AND uid = $4
      RETURNING failures`,
    [accountId, ref.folder, ref.uidvalidity, ref.uid, reason, skipAfter ?? null],
  );
  return rows[0]?.failures ?? 0;
}

/** The index entries still on the server as far as mailpull knows, keyed by messageKey. */
export async function loadIndex(db: Queryable, accountId: string): Promise<Map<string, IndexedMessage>> {
  const { rows } = await db.query<IndexedMessage & { size: string; retrievedSize: string | null }>(
    `SELECT folder, uidvalidity, uid, size, first_seen_at AS "firstSeenAt", delivered_at AS "deliveredAt", header_hash AS "headerHash",
            content_hash AS "contentHash", retrieved_size AS "retrievedSize"
       FROM uid_index WHERE external_account_id = $1 AND deleted_at IS NULL`,
    [accountId],
  );
  return new Map(
    rows.map((r) => [
      messageKey(r),
      { ...r, size: Number(r.size), retrievedSize: r.retrievedSize === null ? null : Number(r.retrievedSize) },
    ]),
  );
}

/**
 * Per IMAP folder: UIDVALIDITY, highest UID seen and the undelivered UIDs, with those marked gone
 * lately (looked up again, so a FETCH that missed a message once does not lose it).
 */
export async function loadCursors(db: Queryable, accountId: string): Promise<FolderCursor[]> {
  const { rows } = await db.query<FolderCursor & { highestUid: string }>(
    `SELECT s.folder, s.uidvalidity, s.highest_uid AS "highestUid",
            COALESCE(array_agg(i.uid ORDER BY i.uid::bigint) FILTER (WHERE i.uid IS NOT NULL), '{}') AS "pendingUids"
       FROM folder_state s
       LEFT JOIN uid_index i ON i.external_account_id = s.external_account_id AND i.folder = s.folder
            AND i.uidvalidity = s.uidvalidity AND i.collected_at IS NULL
            AND (i.deleted_at IS NULL OR i.deleted_at > now() - interval '${GONE_RECHECK}')
      WHERE s.external_account_id = $1
      GROUP BY s.folder, s.uidvalidity, s.highest_uid`,
    [accountId],
  );
  return rows.map((r) => ({ ...r, highestUid: Number(r.highestUid) }));
}

/**
 * Saves what a listing learned about each folder, and which folders it collected; returns the
 * folders whose UIDVALIDITY changed.
 */
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
  await db.query(
    `UPDATE folder_state SET listed = (folder = ANY($2::text[]))
      WHERE external_account_id = $1 AND listed <> (folder = ANY($2::text[]))`,
    [accountId, folders.map((f) => f.folder)],
  );
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

export interface DeliveredEntry {
  message: ServerMessage;
  delivery: { recipientCount: number; contentHash: string; recognized: boolean; held?: boolean };
}

/** markDelivered for many messages in one statement. */
export async function markDeliveredMany(db: Queryable, accountId: string, entries: readonly DeliveredEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `INSERT INTO uid_index (external_account_id, folder, uidvalidity, uid, size, collected_at, delivered_at, recipient_count, content_hash, recognized)
     SELECT $1, f, v, u, s, now(), CASE WHEN h THEN NULL ELSE now() END, n, c, r
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::text[], $8::bool[], $9::bool[]) AS t(f, v, u, s, n, c, r, h)
     ON CONFLICT (external_account_id, folder, uidvalidity, uid)
     DO UPDATE SET collected_at = COALESCE(uid_index.collected_at, now()),
                   delivered_at = CASE WHEN EXCLUDED.delivered_at IS NULL THEN uid_index.delivered_at ELSE COALESCE(uid_index.delivered_at, now()) END,
                   recipient_count = EXCLUDED.recipient_count, content_hash = EXCLUDED.content_hash, recognized = EXCLUDED.recognized`,
    [
      accountId,
      ...refColumns(entries.map((e) => e.message)),
      entries.map((e) => e.message.size),
      entries.map((e) => e.delivery.recipientCount),
      entries.map((e) => e.delivery.contentHash),
      entries.map((e) => e.delivery.recognized),
      entries.map((e) => e.delivery.held ?? false),
    ],
  );
}

/**
 * A held message has reached every recipient or quarantine: the delete policy may now remove it,
 * and the copies recognised as it (after a UIDVALIDITY change) with it. Only a message of the
 * account's current delivery generation, that was collected: after a reset index (another host or
 * username) the same folder, UIDVALIDITY and UID may name another mailbox's message, one never
 * downloaded (over the size limit, skipped, not yet fetched), which this must never let be deleted.
 */
export async function markHeldDone(db: Queryable, accountId: string, ref: MessageRef & { generation: number }): Promise<void> {
  await db.query(
    `WITH done AS (
       UPDATE uid_index SET delivered_at = COALESCE(delivered_at, now())
        WHERE external_account_id = $1 AND folder = $2 AND uidvalidity = $3 AND uid = $4 AND collected_at IS NOT NULL
          AND $5 = (SELECT delivery_generation FROM external_accounts WHERE id = $1)
        RETURNING content_hash)
     UPDATE uid_index SET delivered_at = now()
      WHERE external_account_id = $1 AND recognized AND delivered_at IS NULL AND collected_at IS NOT NULL
        AND content_hash IN (SELECT content_hash FROM done)`,
    [accountId, ref.folder, ref.uidvalidity, ref.uid, ref.generation],
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

/**
 * Forgets every message mailpull has seen on the account's server, so the next cycle treats
 * them all as new. Copies already in the store still block delivering them again, unless
 * `force` starts a new delivery generation.
 */
export async function resetIndex(db: Queryable, id: string, force: boolean): Promise<number | 'busy'> {
  if (!(await tryLockAccountForTransaction(db, id))) return 'busy';
  const { rowCount } = await db.query('DELETE FROM uid_index WHERE external_account_id = $1', [id]);
  await db.query('DELETE FROM folder_state WHERE external_account_id = $1', [id]);
  if (force) await db.query('UPDATE external_accounts SET delivery_generation = delivery_generation + 1 WHERE id = $1', [id]);
  return rowCount ?? 0;
}

/**
 * RETR returned another size than LIST (core/retrieved-size.ts): the index keeps the listed size
 * and records the one that arrived, so the delete policy never removes the message
 * (selectForDeletion), and the note says why it stays on the server.
 */
export async function markSizeMismatch(
  db: Queryable,
  accountId: string,
  ref: MessageRef,
  receivedBytes: number,
  note: string,
): Promise<void> {
  await db.query(
    `UPDATE uid_index SET retrieved_size = $5, last_failure = left($6, 1000)
      WHERE external_account_id = $1 AND folder = $2 AND uidvalidity = $3 AND uid = $4`,
    [accountId, ref.folder, ref.uidvalidity, ref.uid, receivedBytes, note],
  );
}

/** Per content hash, the collected POP3 messages delivered (not recognised) and those still on the server. */
export async function collectedPop3Copies(db: Queryable, accountId: string, hashes: readonly string[]): Promise<CollectedCopies[]> {
  const { rows } = await db.query<{ contentHash: string; delivered: string; onServer: string }>(
    `SELECT content_hash AS "contentHash", count(*) FILTER (WHERE NOT recognized) AS delivered,
            count(*) FILTER (WHERE deleted_at IS NULL) AS "onServer"
       FROM uid_index WHERE external_account_id = $1 AND folder = '' AND collected_at IS NOT NULL AND content_hash = ANY($2::text[])
      GROUP BY 1`,
    [accountId, hashes],
  );
  return rows.map((r) => ({ contentHash: r.contentHash, delivered: Number(r.delivered), onServer: Number(r.onServer) }));
}

/** POP3 messages downloaded: the hash of each one's header section, for the delete pass to compare. */
export async function recordHeaderHashes(
  db: Queryable,
  accountId: string,
  messages: readonly { ref: MessageRef; headerHash: string }[],
): Promise<void> {
  if (messages.length === 0) return;
  await db.query(
    `UPDATE uid_index SET header_hash = t.h
      FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(f, v, u, h)
     WHERE external_account_id = $1 AND folder = t.f AND uidvalidity = t.v AND uid = t.u AND header_hash IS DISTINCT FROM t.h`,
    [accountId, ...refColumns(messages.map((m) => m.ref)), messages.map((m) => m.headerHash)],
  );
}
