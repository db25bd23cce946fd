import type { AccountState, StateInputs } from './account-state';
import type { AccountStatus, DeliveryStatus, Failure, RunSummary } from './account-status';
import { safeText } from './safe-text';

/**
 * What an account's change of status tells the webhooks. Pure: the account workflow decides with
 * it which events to send after each published status.
 */
export const WEBHOOK_EVENTS = ['mail.delivered', 'message.quarantined', 'account.failing', 'account.reauthorization_needed'] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

/** Counts, times and short reasons: never a message's content, never a secret. */
export type WebhookEventData = Record<string, number | string | null>;

export interface WebhookEventDraft {
  event: WebhookEventName;
  data: WebhookEventData;
}

/** A reason from a server's reply is shown in full in the status; an event carries its start. */
const MAX_REASON_LENGTH = 500;

/** What the events are made of: the fields of the workflow's AccountStatus they read. */
export type EventInputs = StateInputs &
  Pick<AccountStatus, 'disabledReason'> & {
    lastRun:
      | (StateInputs['lastRun'] &
          Pick<
            RunSummary,
            'startedAt' | 'finishedAt' | 'delivered' | 'recognized' | 'held' | 'quarantined' | 'failed' | 'downloadedBytes' | 'removed'
          >)
      | null;
    lastError: Pick<Failure, 'kind' | 'message'> | null;
    delivery: StateInputs['delivery'] & Pick<DeliveryStatus, 'quarantined'>;
  };

export interface StatusChange {
  /** the state the last published status had; null when unknown (the account's workflow just started) */
  previous: AccountState | null;
  current: AccountState;
  status: EventInputs;
  /** whether a cycle ran since the last published status (lastRun is that cycle's), or the account was found inactive */
  cycleRan: boolean;
}

const reason = (text: string | null | undefined): string | null => (text ? safeText(text, MAX_REASON_LENGTH) : null);

/**
 * mail.delivered and message.quarantined once per cycle that delivered or quarantined something;
 * account.failing and account.reauthorization_needed once when the state becomes so, not again
 * while it stays so.
 */
export function webhookEventsOf({ previous, current, status, cycleRan }: StatusChange): WebhookEventDraft[] {
  const events: WebhookEventDraft[] = [];
  const run = cycleRan ? status.lastRun : null;
  if (run && run.delivered > 0) {
    events.push({
      event: 'mail.delivered',
      data: {
        delivered: run.delivered,
        recognized: run.recognized,
        held: run.held,
        quarantined: run.quarantined,
        failed: run.failed,
        downloadedBytes: run.downloadedBytes,
        removed: run.removed,
        cycleStartedAt: run.startedAt,
        cycleFinishedAt: run.finishedAt,
      },
    });
  }
  if (run && run.quarantined > 0) {
    events.push({ event: 'message.quarantined', data: { quarantined: run.quarantined, inQuarantine: status.delivery.quarantined } });
  }
  if (current === previous) return events;
  if (current === 'failing') {
    const cycleFailed = status.lastRun?.outcome === 'failed';
    events.push({
      event: 'account.failing',
      data: {
        previousState: previous,
        errorKind: cycleFailed ? (status.lastError?.kind ?? 'unknown') : 'delivery',
        error: reason(cycleFailed ? status.lastError?.message : status.delivery.lastError?.message),
        backlog: status.delivery.backlog,
      },
    });
  }
  if (current === 'reauthorization_needed') {
    events.push({ event: 'account.reauthorization_needed', data: { previousState: previous, reason: reason(status.disabledReason) } });
  }
  return events;
}
