import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, DeliveryBacklog } from '../activities';
import { authBackoffMs } from '../core/auth-backoff';
import type { ErrorKind } from '../core/errors';
import {
  configChangedSignal,
  connectNowSignal,
  statusQuery,
  stopSignal,
  type AccountStatus,
  type ExternalAccountWorkflowInput,
  type RunSummary,
} from './definitions';

const { loadSchedule } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

// Network trouble is retried a few times within the cycle; after that the cycle fails, the
// status says why, and the next interval tries again. Permanent failures (auth) are not retried.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

// IMAP IDLE runs until new mail, the end of the interval (cancelled) or a permanent failure;
// a dropped connection is retried with backoff for as long as the interval lasts.
const push = proxyActivities<Activities>({
  startToCloseTimeout: '8 days',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

const MIN_HELD_WAIT_MS = 5_000;

function initialStatus(externalAccountId: string): AccountStatus {
  return {
    externalAccountId,
    phase: 'starting',
    disabledReason: null,
    authBackoff: null,
    progress: null,
    tls: null,
    tlsWarning: null,
    push: 'off',
    pushError: null,
    lastPushAt: null,
    lastResync: null,
    lastRun: null,
    delivery: { backlog: 0, quarantined: 0, nextAttemptAt: null, lastError: null },
    lastError: null,
    nextRunAt: null,
    rerunQueued: false,
    counts: { cycles: 0, failedCycles: 0, delivered: 0, recognized: 0, removed: 0, quarantined: 0 },
  };
}

function emptyRun(startedAt: string): RunSummary {
  const zero = { onServer: 0, newOnServer: 0, downloaded: 0, downloadedBytes: 0, removed: 0, tooLarge: 0, skipped: 0, recognized: 0, held: 0, quarantined: 0, failed: 0 };
  return { startedAt, finishedAt: startedAt, outcome: 'ok', resyncedFolders: [], ...zero };
}

function failureOf(err: unknown): { kind: ErrorKind | 'unknown'; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { kind: (cause.type ?? 'unknown') as ErrorKind, message: cause.message };
  return { kind: 'unknown', message: err instanceof Error ? err.message : String(err) };
}

/** One long-running workflow per external account: cycles never overlap. */
export async function externalAccountWorkflow(input: ExternalAccountWorkflowInput): Promise<void> {
  const id = input.externalAccountId;
  const fresh = initialStatus(id);
  const status: AccountStatus = {
    ...fresh,
    ...input.status,
    delivery: { ...fresh.delivery, ...input.status?.delivery },
    counts: { ...fresh.counts, ...input.status?.counts },
  };
  let wake = false;
  let stop = false;
  let pushUnsupported = false;

  setHandler(statusQuery, () => status);
  // Connect Now and a changed configuration (new credentials) end an authentication backoff.
  const requestRun = (): void => {
    wake = true;
    status.authBackoff = null;
    status.rerunQueued = status.phase !== 'waiting' && status.phase !== 'disabled';
  };
  setHandler(connectNowSignal, requestRun);
  setHandler(configChangedSignal, () => {
    pushUnsupported = false;
    requestRun();
  });
  setHandler(stopSignal, () => {
    stop = true;
  });

  /** What the last delivery attempt left behind; a delivery error stays until the backlog is gone. */
  function noteDelivery(backlog: DeliveryBacklog, deliveryError: string | null): void {
    status.delivery.backlog = backlog.pending;
    status.delivery.quarantined = backlog.quarantined;
    status.delivery.nextAttemptAt = backlog.nextAttemptAt;
    if (deliveryError) status.delivery.lastError = { message: deliveryError, at: new Date().toISOString() };
    else if (backlog.pending === 0) status.delivery.lastError = null;
  }

  /** Tries the held messages again; true if a target still answers "later". */
  async function retryHeld(scope: 'due' | 'all', run: RunSummary | null): Promise<boolean> {
    const held = await mail.deliverHeldMessages(id, scope);
    status.counts.delivered += held.delivered;
    status.counts.quarantined += held.quarantined;
    if (run) {
      run.downloaded += held.delivered;
      run.quarantined += held.quarantined;
    }
    noteDelivery(held.backlog, held.deliveryError);
    return held.held > 0;
  }

  async function cycle(intervalMs: number, heldPending: number): Promise<'gone' | 'done'> {
    const run = emptyRun(new Date().toISOString());
    try {
      // A target that still answers "later" gets nothing new: the rest stays on the server.
      const targetDown = heldPending > 0 && (await retryHeld('all', run));
      status.phase = 'listing';
      const listed = await mail.listNew(id);
      status.tls = listed.tls;
      status.tlsWarning = listed.tlsWarning;
      run.resyncedFolders = listed.resyncedFolders;
      if (listed.resyncedFolders.length > 0) status.lastResync = { folders: listed.resyncedFolders, at: new Date().toISOString() };
      run.onServer = listed.onServer;
      run.newOnServer = listed.newOnServer;
      run.tooLarge = listed.tooLarge;
      run.skipped = listed.skipped;
      status.phase = 'downloading';
      status.progress = { done: 0, total: listed.pending };
      let remaining = targetDown ? 0 : listed.pending;
      let done = 0;
      while (remaining > 0 && !stop) {
        const batch = await mail.downloadBatch(id);
        const handled = batch.delivered + batch.recognized + batch.held + batch.quarantined + batch.failed;
        // no message handled and none gone from the server: another batch would do the same
        if (handled === 0 && batch.remaining >= remaining) break;
        run.downloaded += batch.delivered;
        run.recognized += batch.recognized;
        run.held += batch.held;
        run.quarantined += batch.quarantined;
        run.failed += batch.failed;
        run.downloadedBytes += batch.bytes;
        status.counts.delivered += batch.delivered;
        status.counts.recognized += batch.recognized;
        status.counts.quarantined += batch.quarantined;
        noteDelivery(batch.backlog, batch.deliveryError);
        done += handled;
        status.progress = { done, total: Math.max(status.progress.total, done + batch.remaining) };
        remaining = batch.held > 0 ? 0 : batch.remaining;
      }
      status.phase = 'deleting';
      run.removed = (await mail.applyDeletePolicy(id)).removed;
      status.counts.removed += run.removed;
      status.lastError = null;
      status.authBackoff = null;
    } catch (err) {
      const failure = failureOf(err);
      if (failure.kind === 'gone') return 'gone';
      if (failure.kind === 'auth') {
        const failures = (status.authBackoff?.failures ?? 0) + 1;
        status.authBackoff = { failures, delaySeconds: authBackoffMs(intervalMs, failures) / 1000 };
      }
      if (failure.kind === 'inactive') {
        run.outcome = 'skipped';
      } else {
        run.outcome = 'failed';
        status.counts.failedCycles++;
        status.lastError = { ...failure, at: new Date().toISOString() };
      }
    } finally {
      status.progress = null;
    }
    status.counts.cycles++;
    run.finishedAt = new Date().toISOString();
    status.lastRun = run;
    return 'done';
  }

  /** Waits for the interval, Connect Now or stop; with push on, also for IMAP IDLE to see new mail. */
  async function waitForNextRun(ms: number, pushMode: 'off' | 'paused' | 'on'): Promise<void> {
    const deadline = Date.now() + ms;
    if (pushMode !== 'on' || pushUnsupported) {
      status.push = pushMode === 'on' ? 'unsupported' : pushMode;
      await condition(() => wake || stop, ms);
      return;
    }
    status.push = 'listening';
    let ended = false;
    const scope = new CancellationScope();
    const watching = scope
      .run(() => push.waitForNewMail(id))
      .then(
        (outcome) => {
          if (outcome === 'new-mail') {
            wake = true;
            status.lastPushAt = new Date().toISOString();
          } else if (outcome === 'unsupported') {
            pushUnsupported = true;
            status.push = 'unsupported';
          } else status.push = 'off';
        },
        (err: unknown) => {
          if (isCancellation(err)) return;
          status.push = 'failed';
          status.pushError = { ...failureOf(err), at: new Date().toISOString() };
        },
      )
      .finally(() => {
        ended = true;
      });
    await condition(() => wake || stop || ended, ms);
    if (!ended) scope.cancel();
    await watching;
    const left = deadline - Date.now();
    if (!wake && !stop && left > 0) await condition(() => wake || stop, left);
  }

  /**
   * Waits like waitForNextRun, and meanwhile tries the held messages whenever they are due. Each
   * wait is at least a few seconds, so a clock apart from the database's cannot spin the loop.
   */
  async function waitRetryingHeld(ms: number, pushMode: 'off' | 'paused' | 'on', retry: boolean): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const due = status.delivery.nextAttemptAt;
      const retryAt = retry && status.delivery.backlog > 0 && due ? Math.max(Date.parse(due), Date.now() + MIN_HELD_WAIT_MS) : Infinity;
      if (retryAt >= deadline) return waitForNextRun(Math.max(0, deadline - Date.now()), pushMode);
      await waitForNextRun(retryAt - Date.now(), pushMode);
      if (wake || stop) return;
      try {
        await retryHeld('due', null);
      } catch (err) {
        status.delivery.lastError = { message: failureOf(err).message, at: new Date().toISOString() };
        status.delivery.nextAttemptAt = new Date(Date.now() + 60_000).toISOString();
      }
    }
  }

  while (!stop) {
    const schedule = await loadSchedule(id);
    if (schedule.state === 'gone') break;
    wake = false;
    status.rerunQueued = false;
    const intervalMs = schedule.intervalSeconds * 1000;
    if (schedule.state === 'active') {
      status.disabledReason = null;
      if ((await cycle(intervalMs, schedule.heldPending)) === 'gone') break;
      const reauth = status.lastError?.kind === 'reauth' && status.lastRun?.outcome === 'failed';
      status.phase = reauth ? 'reauthorization_needed' : 'waiting';
      if (reauth) status.disabledReason = status.lastError?.message ?? null;
    } else {
      status.phase = schedule.cause === 'reauthorization' ? 'reauthorization_needed' : 'disabled';
      status.disabledReason = schedule.reason;
    }
    const waitMs = status.authBackoff ? status.authBackoff.delaySeconds * 1000 : intervalMs;
    status.nextRunAt = new Date(Date.now() + waitMs).toISOString();
    // After a failed cycle only the schedule retries: new mail that a failing cycle cannot take
    // would otherwise wake the account again at once, in a loop.
    const pushMode = schedule.state !== 'active' || !schedule.push ? 'off' : status.lastRun?.outcome === 'failed' ? 'paused' : 'on';
    await waitRetryingHeld(waitMs, pushMode, schedule.state === 'active');
    status.nextRunAt = null;
    if (workflowInfo().continueAsNewSuggested && !stop) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof externalAccountWorkflow>({ externalAccountId: id, status });
    }
  }
  status.phase = 'stopped';
}
