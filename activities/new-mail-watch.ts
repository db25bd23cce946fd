import { Context } from '@temporalio/activity';
import { providerForHost, watchedFolderLimit } from '../core/providers';
import { getStoredExternalAccount, loadActiveness } from '../db/external-accounts';
import { loadCursors } from '../db/uid-index';
import { watchForNewMail, type WatchOutcome } from '../mail/imap-watch';
import type { ActivityContext } from './context';
import { heartbeating } from './heartbeat';

/**
 * IMAP push: holds IDLE on the collected folders and completes when new mail arrives, or 'off'
 * when the account does not push (any more). The workflow cancels it when the interval ends or
 * Connect Now is pressed; a dropped connection fails the attempt, and the retry policy reconnects
 * with backoff.
 */
export async function waitForNewMail(
  { pool, keyring, credentials, push, networkPolicy }: ActivityContext,
  accountId: string,
): Promise<WatchOutcome | 'off'> {
  const account = await getStoredExternalAccount(pool, keyring, accountId);
  if (!account || account.protocol !== 'imap' || !account.push) return 'off';
  const activeness = await loadActiveness(pool, accountId);
  if (activeness.activeness !== 'active') return 'off';
  const context = Context.current();
  const controller = new AbortController();
  const cursors = await loadCursors(pool, accountId);
  const watching = credentials.login(account, (endpoint) =>
    watchForNewMail(endpoint, cursors, {
      timeoutMs: push.timeoutMs,
      networkPolicy,
      maxIdleMs: push.idleRestartMs,
      // IDLE needs a connection per folder; beyond the limit the schedule covers the rest
      maxFolders: watchedFolderLimit(providerForHost(account.host)),
      signal: controller.signal,
    }),
  );
  try {
    return await heartbeating(
      () => undefined,
      () => Promise.race([watching, context.cancelled]),
    );
  } finally {
    controller.abort();
    await watching.catch(() => undefined);
  }
}
