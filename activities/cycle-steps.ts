import { accountStateOf } from '../core/account-state';
import type { AccountStatus } from '../core/account-status';
import { log } from '../core/log';
import { WEBHOOK_EVENTS } from '../core/webhook-events';
import { saveAccountStatus } from '../db/account-status';
import { countFinishedCycle } from '../db/cycle-metrics';
import { loadActiveness } from '../db/external-accounts';
import { backlogOf } from '../db/held-messages';
import { subscribedWebhooks } from '../db/webhooks';
import type { ActivityContext } from './context';
import type { CycleSteps } from './cycle';
import { applyDeletePolicy } from './deletion';
import { typedFailures } from './failure';
import { listAndRecord } from './listing';

/** Keeps the status the workflow reports in Postgres, for lists and filters over many accounts. */
const recordStatus = ({ pool }: ActivityContext, accountId: string, status: AccountStatus): Promise<void> =>
  typedFailures(async () => {
    await saveAccountStatus(pool, accountId, accountStateOf(status), status);
    // a new lastRun: counted for /metrics and logged, once however often this is retried
    const cycle = await countFinishedCycle(pool, accountId, status);
    if (cycle) log[cycle.outcome === 'failed' ? 'warn' : 'info'](cycle, 'cycle finished');
  });

/** The worker's steps of a cycle (activities/cycle.ts composes them; the workflow tests pass stubs). */
export function createCycleSteps(context: ActivityContext): CycleSteps {
  const { pool } = context;
  return {
    // whether the account may collect now, and how many messages it holds for a delivery target
    async loadSchedule(accountId) {
      return { ...(await loadActiveness(pool, accountId)), backlog: (await backlogOf(pool, accountId)).backlog };
    },
    list: (accountId, deleteIfQuiet) => listAndRecord(context, accountId, deleteIfQuiet),
    applyDeletePolicy: (accountId) => applyDeletePolicy(context, accountId),
    recordStatus: (accountId, status) => recordStatus(context, accountId, status),
    async subscribedEvents() {
      const webhooks = await subscribedWebhooks(pool, WEBHOOK_EVENTS);
      return [...new Set(webhooks.flatMap((w) => w.events))];
    },
  };
}
