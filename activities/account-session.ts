import { MailpullError } from '../core/errors';
import { withAccountLock } from '../db/account-lock';
import { getStoredExternalAccount, loadActiveness, type StoredExternalAccount } from '../db/external-accounts';
import type { Pool } from '../db/pool';
import type { MailSession, MailSource } from '../mail/source';
import type { Keyring } from '../secrets/keyring';
import type { Credentials } from './credentials';

export interface SessionDeps {
  pool: Pool;
  keyring: Keyring;
  sources: Record<StoredExternalAccount['protocol'], MailSource>;
  credentials: Credentials;
}

/**
 * Opens a session on the account's remote mailbox under the account's lock. Re-checks that the account may collect (invariant 5) before
 * connecting. Ends the session with a clean logout after `work`, or drops it on error.
 */
export async function withAccountSession<T>(
  { pool, keyring, sources, credentials }: SessionDeps,
  accountId: string,
  work: (session: MailSession, account: StoredExternalAccount) => Promise<T>,
): Promise<T> {
  return withAccountLock(pool, accountId, async () => {
    const account = await getStoredExternalAccount(pool, keyring, accountId);
    if (!account) throw new MailpullError('gone', 'the external account no longer exists');
    const activeness = await loadActiveness(pool, accountId);
    if (activeness.state === 'inactive') {
      throw new MailpullError(activeness.cause === 'reauthorization' ? 'reauth' : 'inactive', activeness.reason);
    }
    const session = await credentials.login(account, (endpoint) => sources[account.protocol].open(endpoint));
    try {
      const result = await work(session, account);
      await session.commit();
      return result;
    } catch (err) {
      session.abort();
      throw err;
    }
  });
}
