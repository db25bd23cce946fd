import { inDomains, type DomainScope } from './domain-scope';
import type { Queryable } from './pool';

export interface Account {
  id: string;
  domainId: string;
  address: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, domain_id AS "domainId", address, enabled, created_at AS "createdAt", updated_at AS "updatedAt"';

export async function insertAccount(db: Queryable, input: { domainId: string; address: string; enabled: boolean }): Promise<Account> {
  const { rows } = await db.query<Account>(`INSERT INTO accounts (domain_id, address, enabled) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
    input.domainId,
    input.address.toLowerCase(),
    input.enabled,
  ]);
  return rows[0];
}

export async function listAccounts(db: Queryable, filter: { domainId?: string; scope: DomainScope }): Promise<Account[]> {
  const { rows } = await db.query<Account>(
    `SELECT ${COLUMNS} FROM accounts WHERE ($1::uuid IS NULL OR domain_id = $1) AND ${inDomains('account', 'accounts', '$2')} ORDER BY address`,
    [filter.domainId ?? null, filter.scope],
  );
  return rows;
}

export async function getAccount(db: Queryable, id: string): Promise<Account | null> {
  return (await db.query<Account>(`SELECT ${COLUMNS} FROM accounts WHERE id = $1`, [id])).rows[0] ?? null;
}

export async function updateAccount(db: Queryable, id: string, patch: { enabled?: boolean }): Promise<Account | null> {
  const { rows } = await db.query<Account>(
    `UPDATE accounts SET enabled = COALESCE($2, enabled), updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.enabled ?? null],
  );
  return rows[0] ?? null;
}

export async function deleteAccount(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM accounts WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

/** address → id, for the given addresses that are enabled accounts of enabled local domains. */
export async function findDeliverableAccounts(
  db: Queryable,
  addresses: readonly string[],
  domainId: string | null,
): Promise<Map<string, string>> {
  if (addresses.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; address: string }>(
    `SELECT a.id, lower(a.address) AS address FROM accounts a JOIN domains d ON d.id = a.domain_id
      WHERE lower(a.address) = ANY($1::text[]) AND a.enabled AND d.enabled AND ($2::uuid IS NULL OR a.domain_id = $2)`,
    [addresses.map((a) => a.toLowerCase()), domainId],
  );
  return new Map(rows.map((r) => [r.address, r.id]));
}

/** Whether an account is enabled and in an enabled domain, so mail may be delivered to it. */
export async function isDeliverable(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query(
    'SELECT 1 FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = $1 AND a.enabled AND d.enabled',
    [id],
  );
  return rows.length > 0;
}

/** The domain an account belongs to. */
export async function domainIdOf(db: Queryable, accountId: string): Promise<string | null> {
  const { rows } = await db.query<{ domain_id: string }>('SELECT domain_id FROM accounts WHERE id = $1', [accountId]);
  return rows[0]?.domain_id ?? null;
}
