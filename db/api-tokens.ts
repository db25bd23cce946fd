import type { TokenScope } from '../secrets/api-token';
import type { DomainScope } from './domain-scope';
import type { Queryable } from './pool';

/** What a token may do, besides its secret. */
export interface TokenRights {
  scope: TokenScope;
  /** the local domains it sees and manages; null: every domain */
  domainIds: DomainScope;
  /** whether it may read message bodies (raw messages, quarantine downloads) */
  messagesRead: boolean;
}

export interface ApiTokenInfo extends Omit<TokenRights, 'domainIds'> {
  id: string;
  name: string;
  /** the domains it is limited to (name null: deleted since); null: every domain */
  domains: { id: string; name: string | null }[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** messagesRead defaults to what the scope had before it existed: admin tokens read bodies, read-only ones do not. */
export async function insertApiToken(
  db: Queryable,
  token: { id: string; name: string; scope: TokenScope; secretHash: Buffer; domainIds?: DomainScope; messagesRead?: boolean },
): Promise<void> {
  await db.query('INSERT INTO api_tokens (id, name, scope, secret_hash, domain_ids, messages_read) VALUES ($1, $2, $3, $4, $5, $6)', [
    token.id,
    token.name,
    token.scope,
    token.secretHash,
    token.domainIds ?? null,
    token.messagesRead ?? token.scope === 'admin',
  ]);
}

/** A token that may be used: not revoked. */
export async function findActiveApiToken(db: Queryable, id: string): Promise<(TokenRights & { secretHash: Buffer }) | null> {
  const { rows } = await db.query<{ scope: TokenScope; secret_hash: Buffer; domain_ids: string[] | null; messages_read: boolean }>(
    'SELECT scope, secret_hash, domain_ids, messages_read FROM api_tokens WHERE id = $1 AND revoked_at IS NULL',
    [id],
  );
  const row = rows[0];
  return row ? { scope: row.scope, secretHash: row.secret_hash, domainIds: row.domain_ids, messagesRead: row.messages_read } : null;
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
    domains: { id: string; name: string | null }[] | null;
    messages_read: boolean;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>(
    `SELECT t.id, t.name, t.scope, t.messages_read, t.created_at, t.last_used_at, t.revoked_at,
            CASE WHEN t.domain_ids IS NULL THEN NULL ELSE
              (SELECT COALESCE(json_agg(json_build_object('id', s.id, 'name', d.name) ORDER BY d.name, s.id), '[]')
                 FROM unnest(t.domain_ids) AS s(id) LEFT JOIN domains d ON d.id = s.id) END AS domains
       FROM api_tokens t ORDER BY t.created_at, t.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    scope: r.scope,
    domains: r.domains,
    messagesRead: r.messages_read,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

export async function revokeApiToken(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return (rowCount ?? 0) > 0;
}
