import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ActivityFailure, ParentClosePolicy, TimeoutFailure, patched, proxyActivities, startChild, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { accountStateOf, type AccountState } from '../core/account-state';
import type { AccountStatus } from '../core/account-status';
import { webhookEventsOf, type WebhookEventDraft, type WebhookEventName } from '../core/webhook-events';

const { dispatchWebhookEvents, giveUpWebhookDelivery } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** A receiver that fails this long is given up; the delivery's record says so. */
const GIVE_UP_AFTER = '24 hours';
const MAX_RETRY_INTERVAL = '10 minutes';

export const webhookDeliveryWorkflowId = (deliveryId: string): string => `webhook-delivery:${deliveryId}`;

export interface WebhookDeliveryInput {
  deliveryId: string;
  /** first wait after a failed attempt (MAILPULL_WEBHOOK_RETRY_SECONDS) */
  retryMs: number;
  /** one attempt's POST (MAILPULL_WEBHOOK_TIMEOUT_SECONDS) */
  timeoutMs: number;
}

/**
 * For the account workflow, after it published a status: sends the events the change produced
 * (core/webhook-events.ts) to the webhooks that take them, each delivery in a workflow of its own
 * that outlives the account's, so a slow receiver never holds the account up. Returns the state
 * to compare the next status with.
 */
export async function announceStatus(
  accountId: string,
  previous: AccountState | null,
  status: AccountStatus,
  cycleRan: boolean,
): Promise<AccountState> {
  const current = accountStateOf(status);
  const events = webhookEventsOf({ previous, current, status, cycleRan });
  // histories recorded before webhooks replay without them
  if (events.length === 0 || !patched('webhooks')) return current;
  await dispatch(accountId, events);
  return current;
}

/**
 * Like announceStatus, for cycles whose first activity reported which events any webhook takes:
 * events nobody takes are not dispatched, so a cycle without them costs no activity.
 */
export async function announceSubscribed(
  accountId: string,
  previous: AccountState | null,
  status: AccountStatus,
  cycleRan: boolean,
  subscribed: readonly WebhookEventName[],
): Promise<AccountState> {
  const current = accountStateOf(status);
  const events = webhookEventsOf({ previous, current, status, cycleRan }).filter((e) => subscribed.includes(e.event));
  if (events.length > 0) await dispatch(accountId, events);
  return current;
}

/** Records the events' deliveries and starts a workflow for each. */
async function dispatch(accountId: string, events: WebhookEventDraft[]): Promise<void> {
  const at = new Date().toISOString();
  const dispatched = await dispatchWebhookEvents(
    accountId,
    events.map((e) => ({ id: uuid4(), at, ...e })),
  );
  await Promise.all(
    dispatched.deliveryIds.map((deliveryId) =>
      startChild(webhookDeliveryWorkflow, {
        workflowId: webhookDeliveryWorkflowId(deliveryId),
        args: [{ deliveryId, retryMs: dispatched.retryMs, timeoutMs: dispatched.timeoutMs }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }).catch((err: unknown) => {
        // started before (the same events dispatched again after a reset): it is on its way
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }),
    ),
  );
}

/**
 * Delivers one event to one webhook: POSTs it, retrying with backoff (the retry interval doubling
 * up to 10 minutes) until the receiver takes it, refuses it for good, or 24 hours have passed.
 */
export async function webhookDeliveryWorkflow({ deliveryId, retryMs, timeoutMs }: WebhookDeliveryInput): Promise<string> {
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: timeoutMs + 30_000,
    scheduleToCloseTimeout: GIVE_UP_AFTER,
    retry: { initialInterval: retryMs, backoffCoefficient: 2, maximumInterval: MAX_RETRY_INTERVAL },
  });
  try {
    return await deliverWebhook(deliveryId);
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const why =
      cause instanceof TimeoutFailure
        ? `gave up after ${GIVE_UP_AFTER}`
        : `could not be sent: ${cause instanceof Error ? cause.message : String(cause)}`;
    await giveUpWebhookDelivery(deliveryId, why);
    return 'failed';
  }
}
