import type { Queryable } from './pool';

export interface Domain {
  id: string;
  name: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = 'id, name, enabled, created_at AS "createdAt", updated_at AS "updatedAt"';

export async function insertDomain(db: Queryable, input: { name: string; enabled: boolean }): Promise<Domain> {
  const { rows } = await db.query<Domain>(`INSERT INTO domains (name, enabled) VALUES ($1, $2) RETURNING ${COLUMNS}`, [
    input.name.toLowerCase(),
    input.enabled,
  ]);
  return rows[0];
}

export async function listDomains(db: Queryable): Promise<Domain[]> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains ORDER BY name`)).rows;
}

export async function getDomain(db: Queryable, id: string): Promise<Domain | null> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains WHERE id = $1`, [id])).rows[0] ?? null;
}

export async function findDomainByName(db: Queryable, name: string): Promise<Domain | null> {
  return (await db.query<Domain>(`SELECT ${COLUMNS} FROM domains WHERE lower(name) = lower($1)`, [name])).rows[0] ?? null;
}

export async function updateDomain(db: Queryable, id: string, patch: { enabled?: boolean }): Promise<Domain | null> {
  const { rows } = await db.query<Domain>(
    `UPDATE domains SET enabled = COALESCE($2, enabled), updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.enabled ?? null],
  );
  return rows[0] ?? null;
}

export async function deleteDomain(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM domains WHERE id = $1', [id])).rowCount ?? 0) > 0;
}
