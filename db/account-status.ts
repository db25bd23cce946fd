import type { AccountState } from '../core/account-state';
import type { AccountStatus } from '../core/account-status';
import type { Queryable } from './pool';

/**
 * Keeps what an account's workflow reported last. The status is the workflow's own (the shape
 * GET .../status answers): ids, counts, times and error messages, never a secret.
 */
export async function saveAccountStatus(
  db: Queryable,
  externalAccountId: string,
  state: AccountState,
  status: AccountStatus,
): Promise<void> {
  // An account deleted meanwhile has no row to keep: the insert selects nothing.
  await db.query(
    `INSERT INTO account_status (external_account_id, state, status)
     SELECT id, $2, $3 FROM external_accounts WHERE id = $1
     ON CONFLICT (external_account_id) DO UPDATE SET state = $2, status = $3, updated_at = now()`,
    [externalAccountId, state, JSON.stringify(status)],
  );
}
