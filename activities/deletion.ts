import type { DeleteSummary } from '../core/account-status';
import { selectForDeletion, type DeletePolicy } from '../core/delete-policy';
import { messageKey } from '../core/download-plan';
import { getExternalAccountSettings, type StoredExternalAccount } from '../db/external-accounts';
import type { Pool } from '../db/pool';
import { loadIndex, markRemoved } from '../db/uid-index';
import type { MailSession } from '../mail/source';
import type { ActivityContext } from './context';
import { typedFailures } from './failure';
import { heartbeating } from './heartbeat';

/** What the policy removes now, of the messages the index holds (delivered ones only). */
async function dueForDeletion(pool: Pool, accountId: string, policy: DeletePolicy) {
  const index = await loadIndex(pool, accountId);
  return selectForDeletion([...index.values()], index, policy, new Date());
}

/**
 * Removes what the policy allows on an open session. A POP3 message listed under a delivered
 * UIDL but not removed is another message that took the UIDL over (its size or header section
 * differs): the delivered one is marked gone, so the next listing collects the newcomer.
 */
export async function deleteDue(pool: Pool, mail: MailSession, account: StoredExternalAccount): Promise<number> {
  const due = await dueForDeletion(pool, account.id, account.deletePolicy);
  if (due.length === 0) return 0;
  const { removed, replaced } = await heartbeating(
    () => ({ stage: 'deleting' }),
    async () => {
      const listed = account.protocol === 'pop3' ? await mail.present(due) : [];
      const done = await mail.remove(due);
      const gone = new Set(done.map(messageKey));
      return { removed: done, replaced: listed.filter((m) => !gone.has(messageKey(m))) };
    },
  );
  await markRemoved(pool, account.id, [...removed, ...replaced]);
  return removed.length;
}

/** Removes from the server what the delete policy allows; logs in only when something is due. */
export const applyDeletePolicy = ({ pool, session }: ActivityContext, accountId: string): Promise<DeleteSummary> =>
  typedFailures(async () => {
    const stored = await getExternalAccountSettings(pool, accountId);
    // touch nothing, not even a login, when nothing is due
    if (!stored || (await dueForDeletion(pool, accountId, stored.deletePolicy)).length === 0) return { removed: 0 };
    return { removed: await session(accountId, (mail, account) => deleteDue(pool, mail, account)) };
  });
