import type { Queryable } from './pool';

/** The local domains a token is limited to; null: every domain. */
export type DomainScope = readonly string[] | null;

/** What a token limited to some domains sees: each belongs to a local domain. */
export type ScopedKind = 'domain' | 'account' | 'externalAccount' | 'heldMessage' | 'deliveryTarget';

const TABLE: Record<ScopedKind, string> = {
  domain: 'domains',
  account: 'accounts',
  externalAccount: 'external_accounts',
  heldMessage: 'held_messages',
  deliveryTarget: 'delivery_targets',
};

/*
 * An external account belongs to its owner's domain; a held (quarantined) message to its external
 * account's. A delivery target belongs to every domain that delivers through it (one may serve
 * many), and to no domain when none does. An external account's own choice of target does not
 * count: it would show the account's domain a target of other domains, and let it route there.
 */
const BELONGS: Record<ScopedKind, (row: string, domains: string) => string> = {
  domain: (row, domains) => `${row}.id = ANY(${domains})`,
  account: (row, domains) => `${row}.domain_id = ANY(${domains})`,
  externalAccount: (row, domains) =>
    `EXISTS (SELECT 1 FROM accounts scope_o WHERE scope_o.id = ${row}.owner_account_id AND scope_o.domain_id = ANY(${domains}))`,
  heldMessage: (row, domains) =>
    `EXISTS (SELECT 1 FROM external_accounts scope_e JOIN accounts scope_o ON scope_o.id = scope_e.owner_account_id
              WHERE scope_e.id = ${row}.external_account_id AND scope_o.domain_id = ANY(${domains}))`,
  deliveryTarget: (row, domains) =>
    `EXISTS (SELECT 1 FROM domains scope_d WHERE scope_d.delivery_target_id = ${row}.id AND scope_d.id = ANY(${domains}))`,
};

/**
 * A WHERE condition: the row (table alias `row`) of this kind is in the domains bound as the query
 * parameter `param` (a uuid[], or NULL for every domain). Every list the API answers uses it.
 */
export function inDomains(kind: ScopedKind, row: string, param: string): string {
  return `(${param}::uuid[] IS NULL OR ${BELONGS[kind](row, `${param}::uuid[]`)})`;
}

/** Whether the object exists and is in the domains: false answers exactly as a missing id would. */
export async function isInScope(db: Queryable, kind: ScopedKind, id: string, domains: DomainScope): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM ${TABLE[kind]} x WHERE x.id = $1 AND ${inDomains(kind, 'x', '$2')}`, [id, domains]);
  return rows.length > 0;
}

/** Those of the ids that name objects of this kind in the domains (all of them for every domain); one query for a whole page. */
export async function idsInScope(
  db: Queryable,
  kind: Exclude<ScopedKind, 'heldMessage'>,
  ids: readonly string[],
  domains: DomainScope,
): Promise<Set<string>> {
  if (domains === null) return new Set(ids);
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `SELECT x.id FROM ${TABLE[kind]} x WHERE x.id = ANY($1::uuid[]) AND ${inDomains(kind, 'x', '$2')}`,
    [[...new Set(ids)], domains],
  );
  return new Set(rows.map((r) => r.id));
}
