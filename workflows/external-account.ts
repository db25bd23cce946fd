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
import type { AccountStatus, Failure, RunSummary } from '../core/account-status';
import { accountStateOf, type AccountLabels, type AccountState } from '../core/account-state';
import type { ErrorKind } from '../core/errors';
import { scheduledWaitMs } from '../core/run-jitter';
import { idleTaskQueue } from '../core/task-queues';
import {
  backlogIn,
  finishRun,
  initialStatus,
  nextWaitMs,
  noteBatch,
  noteCycleEnded,
  noteCycleFailed,
  noteHeldRetry,
  noteHeldRetryFailed,
  noteListing,
  noteRemoved,
  noteRunRequested,
  pushModeFor,
  startRun,
} from './account-status';
import { configChangedSignal, connectNowSignal, statusQuery, stopSignal, type ExternalAccountWorkflowInput } from './definitions';
import { memoDiffers, searchAttributeChanges } from './search-attributes';
import { announceStatus } from './webhook-delivery';

const { loadSchedule, recordStatus } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Network trouble is retried a few times within the cycle; after that the cycle fails, the
// status says why, and the next interval tries again. Permanent failures (auth) are not retried.
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
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
}

/** One long-running workflow per external account: cycles never overlap. */
export async function externalAccountWorkflow(input: ExternalAccountWorkflowInput): Promise<void> {
  const id = input.externalAccountId;
  const status = initialStatus(id, input.status);
  const state = input.status ? accountStateOf(status) : null;
  const account: Account = { id, status, wake: false, stop: false, pushUnsupported: false, state };
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
    const startedAt = Date.now();
    const schedule = await loadSchedule(id);
    if (schedule.state === 'gone') break;
    account.wake = false;
    status.rerunQueued = false;
    const intervalMs = schedule.intervalSeconds * 1000;
    const active = schedule.state === 'active';
    if (active) {
      status.disabledReason = null;
      if ((await cycle(account, intervalMs, backlogIn(schedule))) === 'gone') break;
      noteCycleEnded(status);
    } else {
      status.phase = schedule.cause === 'reauthorization' ? 'reauthorization_needed' : 'disabled';
      status.disabledReason = schedule.reason;
    }
    const nextRunAt = Date.now() + nextWaitMs(status, scheduledWaitMs(id, intervalMs, Date.now() - startedAt));
    status.nextRunAt = new Date(nextRunAt).toISOString();
    await publishStatus(account, schedule.labels);
    account.state = await announceStatus(id, account.state, status, active);
    await waitRetryingHeld(account, nextRunAt - Date.now(), pushModeFor(status, active, active && schedule.push), active);
    status.nextRunAt = null;
    if (workflowInfo().continueAsNewSuggested && !account.stop) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof externalAccountWorkflow>({ externalAccountId: id, status });
    }
  }
  status.phase = 'stopped';
}

/**
 * Keeps the status in Postgres (lists and filters over many accounts) and the account's labels and
 * state on the workflow (the Temporal UI's search and its page for the workflow).
 */
async function publishStatus(account: Account, labels: AccountLabels | undefined): Promise<void> {
  // histories recorded before the status was published replay without it
  if (!patched('publish-status')) return;
  await recordStatus(account.id, account.status);
  if (!labels) return;
  const changes = searchAttributeChanges(workflowInfo().typedSearchAttributes, labels, accountStateOf(account.status));
  if (changes.length > 0) upsertSearchAttributes(changes);
  if (memoDiffers(workflowInfo().memo, labels)) upsertMemo({ ...labels });
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
    const targetDown = backlog > 0 && (await retryHeld(account, 'all', run));
    status.phase = 'listing';
    const listed = await steps.listNew(id);
    noteListing(status, run, listed, now());
    let remaining = targetDown ? 0 : listed.pending;
    while (remaining > 0 && !account.stop) remaining = noteBatch(status, run, await steps.downloadBatch(id), remaining, now());
    status.phase = 'deleting';
    noteRemoved(status, run, (await steps.applyDeletePolicy(id)).removed);
  } catch (err) {
    const failure = failureOf(err);
    if (failure.kind === 'gone') return 'gone';
    noteCycleFailed(status, run, failure, intervalMs, now());
  } finally {
    status.progress = null;
  }
  finishRun(status, run, now());
  return 'done';
}

/**
 * Tries the held messages again; true if a target cannot be reached. A message a target that
 * answers still holds does not stop the others (histories recorded before this stopped at any).
 */
async function retryHeld(account: Account, scope: 'due' | 'all', run: RunSummary | null): Promise<boolean> {
  const held = await steps.deliverHeldMessages(account.id, scope);
  noteHeldRetry(account.status, run, held, now());
  if (scope === 'all' && patched('held-blocks-only-unreachable')) return held.targetDown === true;
  return held.held > 0;
}

/**
 * Waits like waitForNextRun, and meanwhile tries the held messages whenever they are due. Each
 * wait is at least a few seconds, so a clock apart from the database's cannot spin the loop.
 */
async function waitRetryingHeld(account: Account, ms: number, pushMode: 'off' | 'paused' | 'on', retry: boolean): Promise<void> {
  const { status } = account;
  const deadline = Date.now() + ms;
  for (;;) {
    const due = status.delivery.nextAttemptAt;
    const retryAt = retry && status.delivery.backlog > 0 && due ? Math.max(Date.parse(due), Date.now() + MIN_HELD_WAIT_MS) : Infinity;
    if (retryAt >= deadline) return waitForNextRun(account, Math.max(0, deadline - Date.now()), pushMode);
    await waitForNextRun(account, retryAt - Date.now(), pushMode);
    if (account.wake || account.stop) return;
    try {
      await retryHeld(account, 'due', null);
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
    status.push = pushMode === 'on' ? 'unsupported' : pushMode;
    await condition(woken, ms);
    return;
  }
  status.push = 'listening';
  let ended = false;
  const scope = new CancellationScope();
  const watching = scope
    .run(() => idleWatch().waitForNewMail(account.id))
    .then(
      (outcome) => {
        if (outcome === 'new-mail') {
          account.wake = true;
          status.lastPushAt = now();
        } else if (outcome === 'unsupported') {
          account.pushUnsupported = true;
          status.push = 'unsupported';
        } else status.push = 'off';
      },
      (err: unknown) => {
        if (isCancellation(err)) return;
        status.push = 'failed';
        status.pushError = { ...failureOf(err), at: now() };
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
