import type { AccountStatus, BatchSummary, DeleteSummary, HeldSummary, ListSummary } from '../core/account-status';
import { MailpullError } from '../core/errors';
import { withAccountLock } from '../db/account-lock';
import { getStoredExternalAccount, type Activeness } from '../db/external-accounts';
import type { WatchOutcome } from '../mail/imap-watch';
import { activityContext, type ActivityDeps } from './context';
import { finishCycle, startCycle, type CycleFinish, type CycleFinishInput, type CycleStart, type CycleStartInput } from './cycle';
import { createCycleSteps } from './cycle-steps';
import { retryHeld } from './delivery/held-retry';
import { downloadAndDeliver } from './download';
import { typedFailures } from './failure';
import { waitForNewMail } from './new-mail-watch';
import { createWebhookActivities } from './webhooks';

export type { ActivityDeps } from './context';

/**
 * The activities the worker registers, by the names recorded in every workflow history: a name
 * never changes (it would break replay), so where one says less than its activity does, the
 * function it calls says the rest. Only ids and small summaries cross Temporal.
 */
export function createActivities(deps: ActivityDeps) {
  const context = activityContext(deps);
  const steps = createCycleSteps(context);
  const { pool, keyring, lockPool } = context;
  return {
    ...createWebhookActivities({ pool, keyring, timing: deps.webhooks, networkPolicy: deps.networkPolicy }),
    /** The first activity of every cycle, and often the only one (activities/cycle.ts). */
    startCycle: (accountId: string, input: CycleStartInput): Promise<CycleStart> =>
      typedFailures(() => startCycle(steps, accountId, input)),
    /** Downloads and delivers batch after batch on one session for up to 30 s (the name, kept for replay, is older). */
    downloadBatch: (accountId: string): Promise<BatchSummary> =>
      typedFailures(() => context.session(accountId, (mail, account) => downloadAndDeliver(context, mail, account))),
    /** Tries the held messages again, those due or all; needs no remote session, only the account's lock. */
    deliverHeldMessages: (accountId: string, scope: 'due' | 'all'): Promise<HeldSummary> =>
      typedFailures(() =>
        withAccountLock(lockPool, accountId, async () => {
          const account = await getStoredExternalAccount(pool, keyring, accountId);
          if (!account) throw new MailpullError('gone', 'the external account no longer exists');
          return retryHeld(context.delivery, account, scope, context.commitLimits, () => context.backlog(accountId));
        }),
      ),
    /** The last activity of a cycle that had work: deletes what the policy allows, records the status. */
    finishCycle: (accountId: string, input: CycleFinishInput): Promise<CycleFinish> =>
      typedFailures(() => finishCycle(steps, accountId, input)),
    /** IMAP push between cycles (activities/new-mail-watch.ts). */
    waitForNewMail: (accountId: string): Promise<WatchOutcome | 'off'> => typedFailures(() => waitForNewMail(context, accountId)),
    /** Keeps the status in Postgres (for lists and filters) when a cycle's last activity failed for good. */
    recordStatus: (accountId: string, status: AccountStatus): Promise<void> => steps.recordStatus(accountId, status),
    // The step-per-activity cycle, for histories written before `one-activity-cycle`:
    /** Whether the account may collect now, and how many messages it holds for a delivery target. */
    loadSchedule: (accountId: string): Promise<Activeness & { backlog: number }> => typedFailures(() => steps.loadSchedule(accountId)),
    /** Logs in, lists and records the listing (activities/listing.ts). */
    listNew: async (accountId: string): Promise<ListSummary> => (await steps.list(accountId, false)).listed,
    /** Removes from the server what the delete policy allows (activities/deletion.ts). */
    applyDeletePolicy: (accountId: string): Promise<DeleteSummary> => steps.applyDeletePolicy(accountId),
  };
}

export type Activities = ReturnType<typeof createActivities>;
