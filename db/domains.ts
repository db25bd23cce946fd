import { inDomains, type DomainScope } from './domain-scope';
import type { Queryable } from './pool';

export interface Domain {
  id: string;
  name: string;
  enabled: boolean;
  /** where mail for the domain's accounts goes; null: the built-in store */
  deliveryTargetId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, name, enabled, delivery_target_id AS "deliveryTargetId", created_at AS "createdAt", updated_at AS "updatedAt"';

export async function insertDomain(
  db: Queryable,
  input: { name: string; enabled: boolean; deliveryTargetId: string | null },
): Promise<Domain> {
  const { rows } = await db.query<Domain>(
    `INSERT INTO domains (name, enabled, delivery_target_id) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    [input.name.toLowerCase(), input.enabled, input.deliveryTargetId],
  );
  return rows[0];
}

export async function listDomains(db: Queryable, scope: DomainScope): Promise<Domain[]> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains WHERE ${inDomains('domain', 'domains', '$1')} ORDER BY name`, [scope]))
    .rows;
}

export async function getDomain(db: Queryable, id: string): Promise<Domain | null> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains WHERE id = $1`, [id])).rows[0] ?? null;
}

export async function findDomainByName(db: Queryable, name: string): Promise<Domain | null> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains WHERE lower(name) = lower($1)`, [name])).rows[0] ?? null;
}

export async function updateDomain(
  db: Queryable,
  id: string,
  patch: { enabled?: boolean; deliveryTargetId?: string | null },
): Promise<Domain | null> {
  const { rows } = await db.query<Domain>(
    `UPDATE domains SET enabled = COALESCE($2, enabled),
            delivery_target_id = CASE WHEN $3 THEN $4::uuid ELSE delivery_target_id END, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.enabled ?? null, patch.deliveryTargetId !== undefined, patch.deliveryTargetId ?? null],
  );
  return rows[0] ?? null;
}

export async function deleteDomain(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM domains WHERE id = $1', [id])).rowCount ?? 0) > 0;
}
