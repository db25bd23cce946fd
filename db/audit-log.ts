import type { Queryable } from './pool';

export interface AuditEntry {
  id: string;
  at: Date;
  tokenId: string;
  /** method and path pattern, e.g. "PATCH /api/external-accounts/:id" */
  action: string;
  /** the path of the object changed, or of the one created */
  object: string;
  /** the names of the fields the request set, never their values */
  fields: string[];
  status: number;
}

export async function recordAudit(db: Queryable, entry: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
  await db.query('INSERT INTO audit_log (token_id, action, object, fields, status) VALUES ($1, $2, $3, $4, $5)', [
    entry.tokenId,
    entry.action,
    entry.object,
    entry.fields,
    entry.status,
  ]);
}

/** The newest entries first. */
export async function listAudit(db: Queryable, page: { limit: number; offset: number }): Promise<{ total: number; entries: AuditEntry[] }> {
  const total = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM audit_log')).rows[0].n);
  const { rows } = await db.query<AuditEntry>(
    `SELECT id::text, at, token_id AS "tokenId", action, object, fields, status
       FROM audit_log ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2`,
    [page.limit, page.offset],
  );
  return { total, entries: rows };
}
