import type { MessageSummary } from '../core/message-summary';
import type { StoredCopies } from '../core/recognition';
import type { PoolClient } from 'pg';
import type { Queryable } from './pool';

export interface StoredMessageInput {
  accountId: string;
  folder: string;
  raw: Buffer;
  internalDate: Date;
  flags: string[];
  summary: MessageSummary;
  contentHash: string;
  source: { externalAccountId: string; folder: string; uidvalidity: string; uid: string; generation: number };
}

const STORE_COLUMNS = `account_id, folder, raw, size, internal_date, flags, subject, from_header, message_id,
  external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, content_hash`;
const STORE_CONFLICT = `ON CONFLICT (account_id, external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation)
  WHERE external_account_id IS NOT NULL DO NOTHING`;

const storeValues = (input: StoredMessageInput): unknown[] => [
  input.accountId,
  input.folder,
  input.raw,
  input.raw.length,
  input.internalDate,
  input.flags,
  input.summary.subject,
  input.summary.from,
  input.summary.messageId,
  input.source.externalAccountId,
  input.source.folder,
  input.source.uidvalidity,
  input.source.uid,
  input.source.generation,
  input.contentHash,
];

/** Stores one copy; a second attempt for the same recipient and remote message is a no-op. */
export async function storeMessage(tx: PoolClient, input: StoredMessageInput): Promise<boolean> {
  return (await storeMessages(tx, [input]))[0];
}

/** Rows of one multi-row INSERT at most, and raw bytes (a single larger message still goes alone). */
const STORE_STATEMENT_ROWS = 500;
const STORE_STATEMENT_BYTES = 8 * 1024 * 1024;
/**
 * A message larger than this goes to the database in pieces of PIECE_BYTES, joined there: the
 * driver would otherwise copy all of it into one protocol message, a second whole copy in memory.
 */
const PIECEWISE_BYTES = 16 * 1024 * 1024;
const PIECE_BYTES = 1024 * 1024;

/** The session's table of pieces: temporary (no WAL), emptied at commit, pieces kept uncompressed. */
const ENSURE_PIECES = `DO $$ BEGIN
  IF to_regclass('pg_temp.mailpull_raw_pieces') IS NULL THEN
    CREATE TEMP TABLE mailpull_raw_pieces (n integer NOT NULL, piece bytea NOT NULL) ON COMMIT DELETE ROWS;
    ALTER TABLE mailpull_raw_pieces ALTER COLUMN piece SET STORAGE EXTERNAL;
  END IF;
END $$`;

/** storeMessage for a large message, sent in pieces and joined by the database. */
async function storeInPieces(tx: PoolClient, input: StoredMessageInput): Promise<boolean> {
  await tx.query(ENSURE_PIECES);
  for (let at = 0, n = 0; at < input.raw.length; at += PIECE_BYTES, n++) {
    await tx.query('INSERT INTO pg_temp.mailpull_raw_pieces (n, piece) VALUES ($1, $2)', [n, input.raw.subarray(at, at + PIECE_BYTES)]);
  }
  const [accountId, folder, , ...rest] = storeValues(input);
  const { rowCount } = await tx.query(
    `INSERT INTO messages (${STORE_COLUMNS})
     VALUES ($1, $2, (SELECT string_agg(piece, ''::bytea ORDER BY n) FROM pg_temp.mailpull_raw_pieces),
             $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ${STORE_CONFLICT}`,
    [accountId, folder, ...rest],
  );
  await tx.query('DELETE FROM pg_temp.mailpull_raw_pieces');
  return (rowCount ?? 0) > 0;
}

/** One string per stored copy: the key of messages_delivered_once. */
const copyKey = (
  accountId: string,
  externalAccountId: string,
  folder: string,
  uidvalidity: string,
  uid: string,
  generation: number,
): string => [accountId, externalAccountId, folder, uidvalidity, uid, generation].join('\n');

/**
 * Stores many copies, as storeMessage does each, in order: with one statement per few MiB (raw
 * bytes travel as binary parameters), a large message in pieces. Returns, per input, whether it
 * was stored now (false: it was already).
 */
export async function storeMessages(tx: PoolClient, inputs: readonly StoredMessageInput[]): Promise<boolean[]> {
  const width = STORE_COLUMNS.split(',').length;
  const stored = new Set<string>();
  const keyOf = (i: StoredMessageInput): string =>
    copyKey(i.accountId, i.source.externalAccountId, i.source.folder, i.source.uidvalidity, i.source.uid, i.source.generation);
  for (let from = 0; from < inputs.length;) {
    if (inputs[from].raw.length > PIECEWISE_BYTES) {
      if (await storeInPieces(tx, inputs[from])) stored.add(keyOf(inputs[from]));
      from++;
      continue;
    }
    let to = from + 1;
    let bytes = inputs[from].raw.length;
    while (
      to < inputs.length &&
      to - from < STORE_STATEMENT_ROWS &&
      inputs[to].raw.length <= PIECEWISE_BYTES &&
      bytes + inputs[to].raw.length <= STORE_STATEMENT_BYTES
    ) {
      bytes += inputs[to].raw.length;
      to++;
    }
    const chunk = inputs.slice(from, to);
    const rows = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
    const { rows: inserted } = await tx.query<{
      account_id: string;
      external_account_id: string;
      source_folder: string;
      source_uidvalidity: string;
      source_uid: string;
      delivery_generation: number;
    }>(
      `INSERT INTO messages (${STORE_COLUMNS}) VALUES ${rows.join(', ')} ${STORE_CONFLICT}
       RETURNING account_id, external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation`,
      chunk.flatMap(storeValues),
    );
    for (const r of inserted) {
      stored.add(copyKey(r.account_id, r.external_account_id, r.source_folder, r.source_uidvalidity, r.source_uid, r.delivery_generation));
    }
    from = to;
  }
  return inputs.map((i) => stored.has(keyOf(i)));
}

/**
 * How many distinct remote messages with these contents mailpull has kept, per source folder and
 * UIDVALIDITY: stored, delivered through a target, or held (pending or quarantined).
 */
export async function storedCopies(
  db: Queryable,
  externalAccountId: string,
  generation: number,
  hashes: readonly string[],
): Promise<StoredCopies[]> {
  const { rows } = await db.query<StoredCopies & { count: string }>(
    `SELECT source_folder AS folder, source_uidvalidity AS uidvalidity, content_hash AS "contentHash",
            count(DISTINCT source_uid) AS count
       FROM kept_copies
      WHERE external_account_id = $1 AND delivery_generation = $2 AND content_hash = ANY($3::text[])
      GROUP BY 1, 2, 3`,
    [externalAccountId, generation, hashes],
  );
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}

export interface StoredMessageMeta {
  id: string;
  folder: string;
  size: number;
  internalDate: Date;
  flags: string[];
  subject: string | null;
  from: string | null;
  messageId: string | null;
  externalAccountId: string | null;
  sourceFolder: string;
  sourceUid: string | null;
  deliveredAt: Date;
}

export async function listMessages(
  db: Queryable,
  accountId: string,
  page: { folder?: string; limit: number; offset: number },
): Promise<{ total: number; messages: StoredMessageMeta[] }> {
  const where = 'account_id = $1 AND ($2::text IS NULL OR folder = $2)';
  const params = [accountId, page.folder ?? null];
  const total = (await db.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE ${where}`, params)).rows[0].n;
  const { rows } = await db.query<StoredMessageMeta>(
    `SELECT id::text, folder, size, internal_date AS "internalDate", flags, subject, from_header AS "from",
            message_id AS "messageId", external_account_id AS "externalAccountId", source_folder AS "sourceFolder", source_uid AS "sourceUid",
            delivered_at AS "deliveredAt"
       FROM messages WHERE ${where} ORDER BY messages.id LIMIT $3 OFFSET $4`,
    [...params, page.limit, page.offset],
  );
  return { total: Number(total), messages: rows };
}

export async function getRawMessage(db: Queryable, accountId: string, id: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ raw: Buffer }>('SELECT raw FROM messages WHERE account_id = $1 AND id = $2', [accountId, id]);
  return rows[0]?.raw ?? null;
}
