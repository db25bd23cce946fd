import type { Queryable } from './pool';

/** A provider's "wait" on an external account: when collecting may resume, and why (in the admin's words). */
export interface ProviderBackoff {
  until: Date;
  reason: string;
}

/** Records the wait; a later answer replaces an earlier one. */
export async function setProviderBackoff(db: Queryable, externalAccountId: string, backoff: ProviderBackoff): Promise<void> {
  await db.query(
    `INSERT INTO provider_backoffs (external_account_id, until, reason) VALUES ($1, $2, $3)
     ON CONFLICT (external_account_id) DO UPDATE SET until = $2, reason = $3, created_at = now()`,
    [externalAccountId, backoff.until, backoff.reason],
  );
}

/** The wait still running at `now`, if any. */
export async function activeProviderBackoff(db: Queryable, externalAccountId: string, now: Date): Promise<ProviderBackoff | null> {
  const { rows } = await db.query<ProviderBackoff>(
    'SELECT until, reason FROM provider_backoffs WHERE external_account_id = $1 AND until > $2',
    [externalAccountId, now],
  );
  return rows[0] ?? null;
}
