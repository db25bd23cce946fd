import type { MessageSummary } from '../core/message-summary';
import type { SourceRef } from './deliveries';
import { inDomains, type DomainScope } from './domain-scope';
import type { Queryable } from './pool';

export type HeldState = 'pending' | 'quarantined';

/** A recipient still waiting for the message (pending) or refused for good (rejected), with the target's answer. */
export interface HeldRecipient {
  accountId: string;
  state: 'pending' | 'rejected';
  response: string;
}

/** The message itself and what delivering it needs. */
interface HeldContent {
  ref: SourceRef;
  localFolder: string;
  raw: Buffer;
  contentHash: string;
  internalDate: Date;
  flags: string[];
  envelopeFrom: string;
  summary: MessageSummary;
}

export interface HeldInput extends HeldContent {
  state: HeldState;
  reason: string;
  nextAttemptAt: Date;
  recipients: HeldRecipient[];
}

/** A held message as the API shows it: no bytes. */
export interface HeldMeta {
  id: string;
  externalAccountId: string;
  sourceFolder: string;
  sourceUid: string;
  localFolder: string;
  size: number;
  internalDate: Date;
  flags: string[];
  envelopeFrom: string;
  subject: string | null;
  from: string | null;
  messageId: string | null;
  state: HeldState;
  reason: string;
  attempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
  quarantinedAt: Date | null;
  recipients: (HeldRecipient & { address: string })[];
}

/** A held message as a delivery attempt uses it. */
export interface HeldMessage extends HeldContent {
  id: string;
  attempts: number;
  createdAt: Date;
  recipients: HeldRecipient[];
}

async function replaceRecipients(db: Queryable, id: string, recipients: readonly HeldRecipient[]): Promise<void> {
  await db.query('DELETE FROM held_recipients WHERE held_message_id = $1', [id]);
  await db.query(
    `INSERT INTO held_recipients (held_message_id, account_id, state, response)
     SELECT $1, a, s, r FROM unnest($2::uuid[], $3::text[], $4::text[]) AS t(a, s, r)`,
    [id, recipients.map((r) => r.accountId), recipients.map((r) => r.state), recipients.map((r) => r.response.slice(0, 1000))],
  );
}

/** Holds a downloaded message that not every recipient has yet; an existing hold is kept as it is. */
export async function insertHeld(db: Queryable, h: HeldInput): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO held_messages (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, local_folder,
                                raw, size, content_hash, internal_date, flags, envelope_from, subject, from_header, message_id,
                                state, reason, next_attempt_at, quarantined_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, CASE WHEN $16 = 'quarantined' THEN now() END)
     ON CONFLICT DO NOTHING RETURNING id::text`,
    [
      h.ref.externalAccountId,
      h.ref.folder,
      h.ref.uidvalidity,
      h.ref.uid,
      h.ref.generation,
      h.localFolder,
      h.raw,
      h.raw.length,
      h.contentHash,
      h.internalDate,
      h.flags,
      h.envelopeFrom,
      h.summary.subject,
      h.summary.from,
      h.summary.messageId,
      h.state,
      h.reason.slice(0, 2000),
      h.nextAttemptAt,
    ],
  );
  if (rows[0]) await replaceRecipients(db, rows[0].id, h.recipients);
}

/**
 * The account's pending held messages, oldest first, up to the limits (at least one): those due
 * now, or all of them when `all` (a collection cycle retries everything it holds).
 */
export async function pendingHeld(
  db: Queryable,
  externalAccountId: string,
  options: { all: boolean; maxMessages: number; maxBytes: number },
): Promise<HeldMessage[]> {
  const { rows } = await db.query<HeldMessage & { folder: string; uidvalidity: string; uid: string; generation: number }>(
    `SELECT id::text, source_folder AS folder, source_uidvalidity AS uidvalidity, source_uid AS uid, delivery_generation AS generation,
            local_folder AS "localFolder", raw, content_hash AS "contentHash", internal_date AS "internalDate", flags,
            envelope_from AS "envelopeFrom", json_build_object('subject', subject, 'from', from_header, 'messageId', message_id) AS summary,
            attempts, created_at AS "createdAt",
            (SELECT COALESCE(json_agg(json_build_object('accountId', r.account_id, 'state', r.state, 'response', r.response)), '[]')
               FROM held_recipients r WHERE r.held_message_id = h.id) AS recipients
       FROM (SELECT *, sum(size) OVER (ORDER BY id) - size AS before
               FROM held_messages
              WHERE external_account_id = $1 AND state = 'pending' AND ($2 OR next_attempt_at <= now())) h
      WHERE before < $4
      ORDER BY id LIMIT $3`,
    [externalAccountId, options.all, options.maxMessages, options.maxBytes],
  );
  return rows.map(({ folder, uidvalidity, uid, generation, ...rest }) => ({
    ...rest,
    ref: { externalAccountId, folder, uidvalidity, uid, generation },
  }));
}

/** After an attempt: what is left of the message's recipients; nothing left ends the hold. */
export async function recordHeldAttempt(
  db: Queryable,
  id: string,
  after: { state: HeldState; reason: string; nextAttemptAt: Date; recipients: HeldRecipient[] },
): Promise<void> {
  if (after.recipients.length === 0) {
    await db.query('DELETE FROM held_messages WHERE id = $1', [id]);
    return;
  }
  await db.query(
    `UPDATE held_messages SET state = $2, reason = $3, next_attempt_at = $4, attempts = attempts + 1,
            quarantined_at = CASE WHEN $2 = 'quarantined' THEN COALESCE(quarantined_at, now()) END
      WHERE id = $1`,
    [id, after.state, after.reason.slice(0, 2000), after.nextAttemptAt],
  );
  await replaceRecipients(db, id, after.recipients);
}

const META = `h.id::text, h.external_account_id AS "externalAccountId", h.source_folder AS "sourceFolder", h.source_uid AS "sourceUid",
  h.local_folder AS "localFolder", h.size, h.internal_date AS "internalDate", h.flags, h.envelope_from AS "envelopeFrom",
  h.subject, h.from_header AS "from", h.message_id AS "messageId", h.state, h.reason, h.attempts,
  h.next_attempt_at AS "nextAttemptAt", h.created_at AS "createdAt", h.quarantined_at AS "quarantinedAt",
  (SELECT COALESCE(json_agg(json_build_object('accountId', r.account_id, 'address', a.address, 'state', r.state, 'response', r.response)
                            ORDER BY a.address), '[]')
     FROM held_recipients r JOIN accounts a ON a.id = r.account_id WHERE r.held_message_id = h.id) AS recipients`;

export async function listHeld(
  db: Queryable,
  filter: { state: HeldState; externalAccountId?: string; limit: number; offset: number; scope: DomainScope },
): Promise<{ total: number; messages: HeldMeta[] }> {
  const where = `h.state = $1 AND ($2::uuid IS NULL OR h.external_account_id = $2) AND ${inDomains('heldMessage', 'h', '$3')}`;
  const params = [filter.state, filter.externalAccountId ?? null, filter.scope];
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM held_messages h WHERE ${where}`, params)).rows[0].n;
  const { rows } = await db.query<HeldMeta>(`SELECT ${META} FROM held_messages h WHERE ${where} ORDER BY h.id LIMIT $4 OFFSET $5`, [
    ...params,
    filter.limit,
    filter.offset,
  ]);
  return { total, messages: rows };
}

export async function getHeld(db: Queryable, id: string): Promise<HeldMeta | null> {
  return (await db.query<HeldMeta>(`SELECT ${META} FROM held_messages h WHERE h.id = $1`, [id])).rows[0] ?? null;
}

export async function getHeldRaw(db: Queryable, id: string): Promise<Buffer | null> {
  return (await db.query<{ raw: Buffer }>('SELECT raw FROM held_messages WHERE id = $1', [id])).rows[0]?.raw ?? null;
}

/** Puts a quarantined message back in line, its refused recipients with it; false if it is not quarantined. */
export async function requeueQuarantined(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `WITH requeued AS (
       UPDATE held_messages SET state = 'pending', reason = 'retry requested', next_attempt_at = now(), quarantined_at = NULL
        WHERE id = $1 AND state = 'quarantined' RETURNING id),
     recipients AS (UPDATE held_recipients SET state = 'pending' WHERE held_message_id IN (SELECT id FROM requeued))
     SELECT count(*)::int AS n FROM requeued`,
    [id],
  );
  return rows[0].n > 0;
}

/** Drops a quarantined message for good; false if it is not quarantined. */
export async function discardQuarantined(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query(`DELETE FROM held_messages WHERE id = $1 AND state = 'quarantined'`, [id])).rowCount ?? 0) > 0;
}

export interface Backlog {
  /** downloaded, waiting for a target to take them (state 'pending') */
  backlog: number;
  quarantined: number;
  nextAttemptAt: Date | null;
}

export async function backlogOf(db: Queryable, externalAccountId: string): Promise<Backlog> {
  const { rows } = await db.query<Backlog>(
    `SELECT count(*) FILTER (WHERE state = 'pending')::int AS backlog, count(*) FILTER (WHERE state = 'quarantined')::int AS quarantined,
            min(next_attempt_at) FILTER (WHERE state = 'pending') AS "nextAttemptAt"
       FROM held_messages WHERE external_account_id = $1`,
    [externalAccountId],
  );
  return rows[0];
}

/** The external accounts holding messages for a target, to be woken when a target is fixed. */
export async function accountsHoldingMessages(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT DISTINCT external_account_id AS id FROM held_messages WHERE state = 'pending'`);
  return rows.map((r) => r.id);
}

/** Which of these contents are held for a target, not yet taken: a copy of one is not delivered yet either. */
export async function heldContents(
  db: Queryable,
  externalAccountId: string,
  generation: number,
  hashes: readonly string[],
): Promise<Set<string>> {
  const { rows } = await db.query<{ content_hash: string }>(
    `SELECT DISTINCT content_hash FROM held_messages
      WHERE external_account_id = $1 AND delivery_generation = $2 AND state = 'pending' AND content_hash = ANY($3::text[])`,
    [externalAccountId, generation, hashes],
  );
  return new Set(rows.map((r) => r.content_hash));
}
