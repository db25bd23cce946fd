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
 * account's. Delivery targets belong to no domain (one may serve many): a domain sees those it or
 * one of its external accounts delivers through.
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
    `(EXISTS (SELECT 1 FROM domains scope_d WHERE scope_d.delivery_target_id = ${row}.id AND scope_d.id = ANY(${domains}))
      OR EXISTS (SELECT 1 FROM external_accounts scope_e JOIN accounts scope_o ON scope_o.id = scope_e.owner_account_id
                  WHERE scope_e.delivery_target_id = ${row}.id AND scope_o.domain_id = ANY(${domains})))`,
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
