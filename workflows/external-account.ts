import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { isInactivePhase, type AccountStatus, type Failure, type RunSummary } from '../core/account-status';
import { accountStateOf, type AccountLabels, type AccountState } from '../core/account-state';
import type { ErrorKind } from '../core/errors';
import { idleTaskQueue } from '../core/task-queues';
import {
  adoptRecorded,
  finishRun,
  initialStatus,
  noteActive,
  noteBatch,
  noteCycleDone,
  noteCycleEnded,
  noteCycleFailed,
  noteCycleStarted,
  noteDeleting,
  noteDownloadsEnded,
  noteHeldRetry,
  noteHeldRetryFailed,
  noteInactive,
  noteListing,
  noteListingStarted,
  noteNextRun,
  notePush,
  noteRemoved,
  noteRunRequested,
  noteStopped,
  noteWaitOver,
  noteWatchEnded,
  noteWatchFailed,
  pushModeFor,
  startRun,
} from '../core/account-status-reducer';
import { backlogIn, toDownloadIn, withActiveness } from '../core/history-names';
import type { CycleSchedule, CycleStart } from '../activities/cycle';
import { configChangedSignal, connectNowSignal, statusQuery, stopSignal, type ExternalAccountWorkflowInput } from './definitions';
import { memoUpdate, searchAttributeChanges } from './search-attributes';
import { announceStatus, announceSubscribed } from './webhook-delivery';

const { loadSchedule, recordStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Network trouble is retried a few times within the cycle; after that the cycle fails, the
// status says why, and the next interval tries again. Permanent failures (auth) are not retried.
const STEP_ATTEMPTS = 5;
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: STEP_ATTEMPTS },
});

// IMAP IDLE runs until new mail, the end of the interval (cancelled) or a permanent failure;
// a dropped connection is retried with backoff for as long as the interval lasts. The watches
// have a task queue and worker slots of their own (the IDLE budget): while the budget is full a
// watch waits there to be started, and the interval's end cancels it like a running one.
const idleWatch = () =>
  proxyActivities<Activities>({
    taskQueue: idleTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '8 days',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  });

const MIN_HELD_WAIT_MS = 5_000;
/** Until a schedule was loaded, a cycle that could not load one is tried again this soon. */
const FALLBACK_INTERVAL_MS = 60_000;

const now = (): string => new Date().toISOString();

function failureOf(err: unknown): Failure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { kind: (cause.type ?? 'unknown') as ErrorKind, message: cause.message };
  return { kind: 'unknown', message: err instanceof Error ? err.message : String(err) };
}

/** What the loop and the signal handlers share. */
interface Account {
  id: string;
  status: AccountStatus;
  /** Connect Now, a changed configuration or new mail: the next cycle starts at once */
  wake: boolean;
  stop: boolean;
  /** the server has no IDLE; asked again after a change of configuration */
  pushUnsupported: boolean;
  /** the state of the last published status, which webhook events compare with; null: none yet */
  state: AccountState | null;
  /** the interval the last schedule named; used when a cycle could not even load it */
  intervalMs: number;
}

/** One long-running workflow per external account: cycles never overlap. */
export async function externalAccountWorkflow(input: ExternalAccountWorkflowInput): Promise<void> {
  const id = input.externalAccountId;
  const status = initialStatus(id, input.status);
  const state = input.status ? accountStateOf(status) : null;
  const account: Account = { id, status, wake: false, stop: false, pushUnsupported: false, state, intervalMs: FALLBACK_INTERVAL_MS };
  setHandler(statusQuery, () => status);
  const requestRun = (): void => {
    account.wake = true;
    noteRunRequested(status);
  };
  setHandler(connectNowSignal, requestRun);
  setHandler(configChangedSignal, () => {
    account.pushUnsupported = false;
    requestRun();
  });
  setHandler(stopSignal, () => {
    account.stop = true;
  });

  while (!account.stop) {
    // histories recorded before the cycle was folded into one activity replay the steps they ran
    const cycled = patched('one-activity-cycle') ? await cycleAndWait(account) : await stepwiseCycleAndWait(account);
    if (cycled === 'gone') break;
    if (workflowInfo().continueAsNewSuggested && !account.stop) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof externalAccountWorkflow>({ externalAccountId: id, status });
    }
  }
  noteStopped(status);
}

/**
 * One cycle and the wait after it. The common case, nothing new and nothing held, is one activity
 * (startCycle: schedule, login, listing, delete policy, status record) and the timer; a cycle with
 * mail adds one activity per download batch and one to finish (finishCycle). A search attribute,
 * the memo or a webhook dispatch costs an action only when a value changed or a webhook listens.
 */
async function cycleAndWait(account: Account): Promise<'gone' | 'done'> {
  const { id, status } = account;
  const startedAt = now();
  account.wake = false;
  noteCycleStarted(status);
  if (!isInactivePhase(status.phase)) noteListingStarted(status);
  let schedule: CycleSchedule & { active: boolean };
  try {
    const start = await steps.startCycle(id, { status, startedAt, attempts: STEP_ATTEMPTS });
    if (start.outcome === 'gone') return 'gone';
    if (start.outcome === 'ended') {
      adopt(account, start.status);
      schedule = start;
    } else {
      schedule = { ...start, active: true };
      if ((await collect(account, start, startedAt)) === 'gone') return 'gone';
    }
  } catch (err) {
    // the activity itself could not run (a worker lost again and again): the cycle failed
    const failure = failureOf(err);
    if (failure.kind === 'gone') return 'gone';
    await recordFailure(account, startRun(startedAt), failure, startedAt, account.intervalMs);
    schedule = { intervalSeconds: account.intervalMs / 1000, push: false, subscribed: [], active: true };
  }
  account.intervalMs = schedule.intervalSeconds * 1000;
  upsertLabels(account, schedule.labels);
  account.state = await announceSubscribed(id, account.state, status, schedule.active, schedule.subscribed);
  const nextRunAt = status.nextRunAt ? Date.parse(status.nextRunAt) : Date.now() + account.intervalMs;
  const pushMode = pushModeFor(status, schedule.active, schedule.active && schedule.push);
  await waitRetryingHeld(account, nextRunAt - Date.now(), pushMode, schedule.active, true);
  noteWaitOver(status);
  return 'done';
}

/** The status an activity recorded becomes the workflow's; a Connect Now meanwhile still counts. */
const adopt = (account: Account, recorded: AccountStatus): void => adoptRecorded(account.status, recorded, account.wake);

/** The work of a cycle the listing found some for: held messages, then downloads in batches; then finishCycle. */
async function collect(account: Account, start: Extract<CycleStart, { outcome: 'work' }>, startedAt: string): Promise<'gone' | 'done'> {
  const { id, status } = account;
  const intervalMs = start.intervalSeconds * 1000;
  const run = startRun(startedAt);
  let failure: Failure | null = null;
  noteActive(status);
  try {
    noteListing(status, run, start.listed, now());
    // A target that cannot be reached gets nothing new: the rest stays on the server.
    const targetDown = start.backlog > 0 && (await retryHeld(account, 'all', run, true));
    let remaining = targetDown ? 0 : toDownloadIn(start.listed);
    while (remaining > 0 && !account.stop) remaining = noteBatch(status, run, await steps.downloadBatch(id), remaining, now());
    noteDeleting(status);
  } catch (err) {
    failure = failureOf(err);
    if (failure.kind === 'gone') return 'gone';
  } finally {
    noteDownloadsEnded(status);
  }
  try {
    const finish = await steps.finishCycle(id, { status, run, startedAt, intervalMs, failure, attempts: STEP_ATTEMPTS });
    if (finish.outcome === 'gone') return 'gone';
    adopt(account, finish.status);
  } catch (err) {
    const failed = failureOf(err);
    if (failed.kind === 'gone') return 'gone';
    await recordFailure(account, run, failure ?? failed, startedAt, intervalMs);
  }
  return 'done';
}

/** A cycle whose last activity failed for good: ended here, its status recorded on its own. */
async function recordFailure(account: Account, run: RunSummary, failure: Failure, startedAt: string, intervalMs: number): Promise<void> {
  noteCycleDone(account.status, account.id, run, failure, { startedAt, finishedAt: now(), intervalMs });
  await recordStatus(account.id, account.status);
}

/** The account's labels and state on the workflow (the Temporal UI's search and its page), where they changed. */
function upsertLabels(account: Account, labels: AccountLabels | undefined): void {
  if (!labels) return;
  const changes = searchAttributeChanges(workflowInfo().typedSearchAttributes, labels, accountStateOf(account.status));
  if (changes.length > 0) upsertSearchAttributes(changes);
  const memo = memoUpdate(workflowInfo().memo, labels);
  if (memo) upsertMemo(memo);
}

/** One cycle as histories recorded before 'one-activity-cycle' ran it: an activity per step. */
async function stepwiseCycleAndWait(account: Account): Promise<'gone' | 'done'> {
  const { id, status } = account;
  const startedAt = now();
  const schedule = withActiveness(await loadSchedule(id));
  if (schedule.activeness === 'gone') return 'gone';
  account.wake = false;
  noteCycleStarted(status);
  const intervalMs = schedule.intervalSeconds * 1000;
  const active = schedule.activeness === 'active';
  if (active) {
    noteActive(status);
    if ((await cycle(account, intervalMs, backlogIn(schedule))) === 'gone') return 'gone';
    noteCycleEnded(status);
  } else noteInactive(status, schedule.cause, schedule.reason);
  noteNextRun(status, id, { startedAt, finishedAt: now(), intervalMs });
  const nextRunAt = Date.parse(status.nextRunAt ?? now());
  await publishStatus(account, schedule.labels);
  account.state = await announceStatus(id, account.state, status, active);
  await waitRetryingHeld(account, nextRunAt - Date.now(), pushModeFor(status, active, active && schedule.push), active, false);
  noteWaitOver(status);
  return 'done';
}

/**
 * Keeps the status in Postgres (lists and filters over many accounts) and the account's labels and
 * state on the workflow (the Temporal UI's search and its page for the workflow).
 */
async function publishStatus(account: Account, labels: AccountLabels | undefined): Promise<void> {
  // histories recorded before the status was published replay without it
  if (!patched('publish-status')) return;
  await recordStatus(account.id, account.status);
  upsertLabels(account, labels);
}

/**
 * One collection cycle: the held messages first, then log in and list, download and deliver in
 * batches (recipients resolved per message), and apply the delete policy.
 */
async function cycle(account: Account, intervalMs: number, backlog: number): Promise<'gone' | 'done'> {
  const { id, status } = account;
  const run = startRun(now());
  try {
    // A target that cannot be reached gets nothing new: the rest stays on the server.
    const targetDown = backlog > 0 && (await retryHeld(account, 'all', run, false));
    noteListingStarted(status);
    const listed = await steps.listNew(id);
    noteListing(status, run, listed, now());
    let remaining = targetDown ? 0 : toDownloadIn(listed);
    while (remaining > 0 && !account.stop) remaining = noteBatch(status, run, await steps.downloadBatch(id), remaining, now());
    noteDeleting(status);
    noteRemoved(status, run, (await steps.applyDeletePolicy(id)).removed);
  } catch (err) {
    const failure = failureOf(err);
    if (failure.kind === 'gone') return 'gone';
    noteCycleFailed(status, run, failure, intervalMs, now());
  } finally {
    noteDownloadsEnded(status);
  }
  finishRun(status, run, now());
  return 'done';
}

/**
 * Tries the held messages again; true if a target cannot be reached. A message a target that
 * answers still holds does not stop the others (histories recorded before this stopped at any).
 */
async function retryHeld(account: Account, scope: 'due' | 'all', run: RunSummary | null, folded: boolean): Promise<boolean> {
  const held = await steps.deliverHeldMessages(account.id, scope);
  noteHeldRetry(account.status, run, held, now());
  if (scope === 'all' && (folded || patched('held-blocks-only-unreachable'))) return held.targetDown === true;
  return held.held > 0;
}

/**
 * Waits like waitForNextRun, and meanwhile tries the held messages whenever they are due. Each
 * wait is at least a few seconds, so a clock apart from the database's cannot spin the loop.
 */
async function waitRetryingHeld(
  account: Account,
  ms: number,
  pushMode: 'off' | 'paused' | 'on',
  retry: boolean,
  folded: boolean,
): Promise<void> {
  const { status } = account;
  const deadline = Date.now() + ms;
  for (;;) {
    const due = status.delivery.nextAttemptAt;
    const retryAt = retry && status.delivery.backlog > 0 && due ? Math.max(Date.parse(due), Date.now() + MIN_HELD_WAIT_MS) : Infinity;
    if (retryAt >= deadline) return waitForNextRun(account, Math.max(0, deadline - Date.now()), pushMode);
    await waitForNextRun(account, retryAt - Date.now(), pushMode);
    if (account.wake || account.stop) return;
    try {
      await retryHeld(account, 'due', null, folded);
    } catch (err) {
      noteHeldRetryFailed(status, failureOf(err), Date.now());
    }
  }
}

/** Waits for the interval, Connect Now or stop; with push on, also for IMAP IDLE to see new mail. */
async function waitForNextRun(account: Account, ms: number, pushMode: 'off' | 'paused' | 'on'): Promise<void> {
  const { status } = account;
  const woken = (): boolean => account.wake || account.stop;
  const deadline = Date.now() + ms;
  if (pushMode !== 'on' || account.pushUnsupported) {
    notePush(status, pushMode === 'on' ? 'unsupported' : pushMode);
    await condition(woken, ms);
    return;
  }
  notePush(status, 'listening');
  let ended = false;
  const scope = new CancellationScope();
  const watching = scope
    .run(() => idleWatch().waitForNewMail(account.id))
    .then(
      (outcome) => {
        if (outcome === 'new-mail') account.wake = true;
        else if (outcome === 'unsupported') account.pushUnsupported = true;
        noteWatchEnded(status, outcome, now());
      },
      (err: unknown) => {
        if (!isCancellation(err)) noteWatchFailed(status, failureOf(err), now());
      },
    )
    .finally(() => {
      ended = true;
    });
  await condition(() => woken() || ended, ms);
  if (!ended) scope.cancel();
  await watching;
  const left = deadline - Date.now();
  if (!woken() && left > 0) await condition(woken, left);
}
