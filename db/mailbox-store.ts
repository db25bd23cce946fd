import type { MessageSummary } from '../core/message-summary';
import type { Queryable } from './pool';

export interface StoredMessageInput {
  accountId: string;
  folder: string;
  raw: Buffer;
  internalDate: Date;
  flags: string[];
  summary: MessageSummary;
  source: { externalAccountId: string; uid: string };
}

/** Stores one copy; a second attempt for the same recipient and remote message is a no-op. */
export async function storeMessage(db: Queryable, input: StoredMessageInput): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO messages (account_id, folder, raw, size, internal_date, flags, subject, from_header, message_id,
                           external_account_id, source_uid)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (account_id, external_account_id, source_folder, source_uidvalidity, source_uid)
       WHERE external_account_id IS NOT NULL DO NOTHING`,
    [
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
      input.source.uid,
    ],
  );
  return (rowCount ?? 0) > 0;
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
            message_id AS "messageId", external_account_id AS "externalAccountId", source_uid AS "sourceUid",
            delivered_at AS "deliveredAt"
       FROM messages WHERE ${where} ORDER BY id LIMIT $3 OFFSET $4`,
    [...params, page.limit, page.offset],
  );
  return { total: Number(total), messages: rows };
}

export async function getRawMessage(db: Queryable, accountId: string, id: string): Promise<Buffer | null> {
  const { rows } = await db.query<{ raw: Buffer }>('SELECT raw FROM messages WHERE account_id = $1 AND id = $2', [
    accountId,
    id,
  ]);
  return rows[0]?.raw ?? null;
}
