import { Context } from '@temporalio/activity';
import { MailpullError, ThrottledError } from '../core/errors';
import { withAccountLock } from '../db/account-lock';
import { getStoredExternalAccount, loadActiveness, type StoredExternalAccount } from '../db/external-accounts';
import type { Pool } from '../db/pool';
import { activeProviderBackoff, setProviderBackoff } from '../db/provider-backoffs';
import type { MailSession, MailSource } from '../mail/source';
import type { Keyring } from '../secrets/keyring';
import type { Credentials } from './credentials';
import { heartbeating } from './heartbeat';

export interface SessionDeps {
  pool: Pool;
  lockPool: Pool;
  keyring: Keyring;
  sources: Record<StoredExternalAccount['protocol'], MailSource>;
  credentials: Credentials;
}

/**
 * Opens a session on the account's remote mailbox under the account's lock. Re-checks that the
 * account may collect (invariant 5) before connecting. Ends the session with a clean logout after
 * `work`, or drops it on error. A cancelled activity or a lost lock drops the session at once, so
 * the work fails fast instead of running on unlocked. Logging in and out heartbeat too: a server
 * that falls silent there is caught by the socket's idle timeout, which names the step, not by the
 * activity's heartbeat timeout, which would only say the activity stopped. A provider's "wait"
 * (ThrottledError) is recorded, and no session is opened on the account until it is over.
 */
export async function withAccountSession<T>(
  { pool, lockPool, keyring, sources, credentials }: SessionDeps,
  accountId: string,
  work: (session: MailSession, account: StoredExternalAccount) => Promise<T>,
): Promise<T> {
  const cancelled = Context.current().cancelled;
  return withAccountLock(lockPool, accountId, async (lost) => {
    const account = await getStoredExternalAccount(pool, keyring, accountId);
    if (!account) throw new MailpullError('gone', 'the external account no longer exists');
    const activeness = await loadActiveness(pool, accountId);
    if (activeness.activeness === 'inactive') {
      throw new MailpullError(activeness.cause === 'reauthorization' ? 'reauth' : 'inactive', activeness.reason);
    }
    const waiting = await activeProviderBackoff(pool, accountId, new Date());
    if (waiting) throw new ThrottledError(waiting.until, waiting.reason);
    const session = await heartbeating(
      () => ({ stage: 'connecting' }),
      () => credentials.login(account, (endpoint) => sources[account.protocol].open(endpoint)),
    ).catch(throttled(pool, accountId));
    const working = work(session, account).catch(throttled(pool, accountId));
    try {
      const result = await Promise.race([working, lost, cancelled]);
      await heartbeating(
        () => ({ stage: 'closing' }),
        () => session.commit(),
      );
      return result;
    } catch (err) {
      session.abort();
      // the work stops on the dropped session; wait for it, so nothing it does outlives the lock
      await working.catch(() => undefined);
      throw err;
    }
  });
}

/** Records a provider's "wait" before passing it on, so the next cycles do not log in before it is over. */
const throttled =
  (pool: Pool, accountId: string) =>
  async (err: unknown): Promise<never> => {
    if (err instanceof ThrottledError) await setProviderBackoff(pool, accountId, { until: err.until, reason: err.message });
    throw err;
  };
