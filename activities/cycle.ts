import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { AccountLabels } from '../core/account-state';
import type { ErrorKind } from '../core/errors';
import type { WebhookEventName } from '../core/webhook-events';
import type { Activeness } from '../db/external-accounts';
import type { AccountStatus, Failure, RunSummary } from '../core/account-status';
import { backlogIn } from '../core/history-names';
import {
  noteActive,
  noteCycleDone,
  noteInactive,
  noteNextRun,
  noteQuietCycle,
  noteRemoved,
  startRun,
} from '../core/account-status-reducer';
import type { DeleteSummary, ListSummary } from '../core/account-status';

/**
 * The steps a cycle's activities are made of. The worker's are the real ones (activities/cycle-steps.ts);
 * the workflow tests pass stubs, so the same composition runs under both.
 */
export interface CycleSteps {
  loadSchedule(accountId: string): Promise<Activeness & { backlog: number }>;
  /**
   * Logs in, lists and records the listing; with `deleteIfQuiet` and nothing to download, also
   * removes on the same session what the delete policy allows.
   */
  list(accountId: string, deleteIfQuiet: boolean): Promise<{ listed: ListSummary; removed: number }>;
  applyDeletePolicy(accountId: string): Promise<DeleteSummary>;
  recordStatus(accountId: string, status: AccountStatus): Promise<void>;
  /** the events any enabled webhook takes */
  subscribedEvents(): Promise<WebhookEventName[]>;
}

export interface CycleStartInput {
  /** the workflow's status as the cycle starts */
  status: AccountStatus;
  /** when the workflow started the cycle (ISO) */
  startedAt: string;
  /** the attempts the workflow gives the activity: a failure in the last one is the cycle's */
  attempts: number;
}

/** What the workflow needs for the wait and for the Temporal UI, whatever the cycle found. */
export interface CycleSchedule {
  labels?: AccountLabels;
  intervalSeconds: number;
  /** IMAP push between cycles */
  push: boolean;
  subscribed: WebhookEventName[];
}

/**
 * A started cycle: the account is gone; or the cycle ended already (inactive account, nothing new,
 * or failed), its status recorded, only the wait left; or there is work (downloads, held messages).
 */
export type CycleStart =
  | { outcome: 'gone' }
  | (CycleSchedule & { outcome: 'ended'; status: AccountStatus; active: boolean })
  | (CycleSchedule & { outcome: 'work'; listed: ListSummary; backlog: number });

export interface CycleFinishInput {
  status: AccountStatus;
  run: RunSummary;
  startedAt: string;
  intervalMs: number;
  /** why the cycle failed; null: it did not, and the delete policy applies */
  failure: Failure | null;
  attempts: number;
}

export type CycleFinish = { outcome: 'gone' } | { outcome: 'ended'; status: AccountStatus };

const failureOf = (err: unknown): Failure =>
  err instanceof ApplicationFailure
    ? { kind: (err.type ?? 'unknown') as ErrorKind, message: err.message }
    : { kind: 'unknown', message: err instanceof Error ? err.message : String(err) };

/**
 * Now on the clock the workflow and the Temporal server keep: when this attempt was scheduled plus
 * the time it has run. The workflow computes its waits on that clock (a test server skips it ahead).
 */
function serverClock(): () => string {
  const scheduled = Context.current().info.currentAttemptScheduledTimestampMs;
  const entered = Date.now();
  return () => new Date(scheduled + Date.now() - entered).toISOString();
}

/**
 * The failure a step ended the cycle with; rethrows what Temporal still retries (a retryable
 * failure before the last attempt, a cancellation), so the retries stay visible in the UI.
 */
function finalFailure(err: unknown, attempts: number): Failure {
  if (err instanceof CancelledFailure) throw err;
  const failure = failureOf(err);
  const retryable = !(err instanceof ApplicationFailure && err.nonRetryable);
  if (failure.kind !== 'gone' && retryable && Context.current().info.attempt < attempts) throw err;
  return failure;
}

/**
 * The first activity of every cycle: loads the schedule, and for an active account logs in, lists
 * and records the listing. When nothing is to be downloaded and nothing is held (the common case)
 * the cycle ends here: what the policy allows is deleted on the same session, and the status is
 * recorded; so is the status of an inactive account or of a cycle that failed.
 */
export async function startCycle(steps: CycleSteps, accountId: string, input: CycleStartInput): Promise<CycleStart> {
  const now = serverClock();
  const schedule = await steps.loadSchedule(accountId);
  if (schedule.activeness === 'gone') return { outcome: 'gone' };
  const { status, startedAt } = input;
  const intervalMs = schedule.intervalSeconds * 1000;
  const clock = () => ({ startedAt, finishedAt: now(), intervalMs });
  const scheduled: CycleSchedule = {
    labels: schedule.labels,
    intervalSeconds: schedule.intervalSeconds,
    push: schedule.activeness === 'active' && schedule.push,
    subscribed: await steps.subscribedEvents(),
  };
  const ended = async (active: boolean): Promise<CycleStart> => {
    await steps.recordStatus(accountId, status);
    return { outcome: 'ended', status, active, ...scheduled };
  };
  if (schedule.activeness === 'inactive') {
    noteInactive(status, schedule.cause, schedule.reason);
    noteNextRun(status, accountId, clock());
    return ended(false);
  }
  const backlog = backlogIn(schedule);
  try {
    const { listed, removed } = await steps.list(accountId, backlog === 0);
    if (listed.toDownload > 0 || backlog > 0) return { outcome: 'work', listed, backlog, ...scheduled };
    noteQuietCycle(status, accountId, listed, removed, clock());
  } catch (err) {
    const failure = finalFailure(err, input.attempts);
    if (failure.kind === 'gone') return { outcome: 'gone' };
    noteActive(status);
    noteCycleDone(status, accountId, startRun(startedAt), failure, clock());
  }
  return ended(true);
}

/** The last activity of a cycle with work: the delete policy (unless the cycle failed), then the status recorded. */
export async function finishCycle(steps: CycleSteps, accountId: string, input: CycleFinishInput): Promise<CycleFinish> {
  const now = serverClock();
  const { status, run } = input;
  let failure = input.failure;
  if (!failure) {
    try {
      noteRemoved(status, run, (await steps.applyDeletePolicy(accountId)).removed);
    } catch (err) {
      failure = finalFailure(err, input.attempts);
      if (failure.kind === 'gone') return { outcome: 'gone' };
    }
  }
  noteCycleDone(status, accountId, run, failure, {
    startedAt: input.startedAt,
    finishedAt: now(),
    intervalMs: input.intervalMs,
  });
  await steps.recordStatus(accountId, status);
  return { outcome: 'ended', status };
}
