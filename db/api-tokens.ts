import type { TokenScope } from '../secrets/api-token';
import type { Queryable } from './pool';

export interface ApiTokenInfo {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export async function insertApiToken(
  db: Queryable,
  token: { id: string; name: string; scope: TokenScope; secretHash: Buffer },
): Promise<void> {
  await db.query('INSERT INTO api_tokens (id, name, scope, secret_hash) VALUES ($1, $2, $3, $4)', [
    token.id,
    token.name,
    token.scope,
    token.secretHash,
  ]);
}

/** A token that may be used: not revoked. */
export async function findActiveApiToken(db: Queryable, id: string): Promise<{ scope: TokenScope; secretHash: Buffer } | null> {
  const { rows } = await db.query<{ scope: TokenScope; secret_hash: Buffer }>(
    'SELECT scope, secret_hash FROM api_tokens WHERE id = $1 AND revoked_at IS NULL',
    [id],
  );
  return rows[0] ? { scope: rows[0].scope, secretHash: rows[0].secret_hash } : null;
}

export async function touchApiToken(db: Queryable, id: string): Promise<void> {
  await db.query(
    "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    [id],
  );
}

export async function listApiTokens(db: Queryable): Promise<ApiTokenInfo[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    scope: TokenScope;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>('SELECT id, name, scope, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at, id');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scope: r.scope,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

export async function revokeApiToken(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return (rowCount ?? 0) > 0;
}
