import type {
  AccountStatus,
  BatchSummary,
  DeliveryBacklog,
  Failure,
  HeldSummary,
  ListSummary,
  PushPhase,
  RunSummary,
} from './account-status';
import { authBackoffMs } from './auth-backoff';
import { backlogIn, toDownloadIn } from './history-names';
import { scheduledWaitMs } from './run-jitter';
import { addTally, emptyTally, handledIn } from './tally';

/**
 * Every change to the account status (core/account-status.ts), apart from the workflow's control
 * flow: what a listing, a batch, a held retry, a failure, the start and end of a cycle, a wait and
 * an IDLE watch change in the status the API shows and in the run being recorded. The workflow
 * and the activities that end a cycle both use it, so the status those record is the one the
 * workflow takes over. Pure: times come in as arguments, so it is deterministic in a workflow and
 * testable without one.
 */

export function initialStatus(externalAccountId: string, carried?: AccountStatus): AccountStatus {
  const fresh: AccountStatus = {
    externalAccountId,
    phase: 'starting',
    disabledReason: null,
    authBackoff: null,
    providerWait: null,
    progress: null,
    tls: null,
    tlsWarning: null,
    folderWarning: null,
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
  return { ...fresh, ...carried, delivery: { ...fresh.delivery, ...carried?.delivery }, counts: { ...fresh.counts, ...carried?.counts } };
}

export function startRun(at: string): RunSummary {
  const zero = { onServer: 0, newOnServer: 0, downloadedBytes: 0, removed: 0, tooLarge: 0, skipped: 0 };
  return { startedAt: at, finishedAt: at, outcome: 'ok', resyncedFolders: [], ...emptyTally(), ...zero };
}

/** A cycle begins: the rerun a Connect Now queued is this one. */
export function noteCycleStarted(status: AccountStatus): void {
  status.rerunQueued = false;
}

/** Logging in and listing. */
export function noteListingStarted(status: AccountStatus): void {
  status.phase = 'listing';
}

/** The account collects: no reason not to any more. */
export function noteActive(status: AccountStatus): void {
  status.disabledReason = null;
}

export function noteDeleting(status: AccountStatus): void {
  status.phase = 'deleting';
}

/** The cycle's downloads ended (done, stopped or failed): no progress to show. */
export function noteDownloadsEnded(status: AccountStatus): void {
  status.progress = null;
}

/** The wait after a cycle is over: the next cycle starts now. */
export function noteWaitOver(status: AccountStatus): void {
  status.nextRunAt = null;
}

/** The workflow ended: the account was deleted or stopped. */
export function noteStopped(status: AccountStatus): void {
  status.phase = 'stopped';
}

/**
 * The status an activity recorded becomes the workflow's; a Connect Now that arrived meanwhile
 * (`requested`) keeps the rerun it queued and the backoff it ended.
 */
export function adoptRecorded(status: AccountStatus, recorded: AccountStatus, requested: boolean): void {
  const { rerunQueued, authBackoff } = status;
  Object.assign(status, recorded);
  if (requested) Object.assign(status, { rerunQueued, authBackoff });
}

/** What IMAP push does during the wait. */
export function notePush(status: AccountStatus, push: PushPhase): void {
  status.push = push;
}

/** An IDLE watch that ended by itself: new mail, a server without IDLE, or push turned off. */
export function noteWatchEnded(status: AccountStatus, outcome: 'new-mail' | 'unsupported' | 'off', at: string): void {
  if (outcome === 'new-mail') status.lastPushAt = at;
  else status.push = outcome === 'unsupported' ? 'unsupported' : 'off';
}

/** An IDLE watch that failed for good. */
export function noteWatchFailed(status: AccountStatus, failure: Failure, at: string): void {
  status.push = 'failed';
  status.pushError = { ...failure, at };
}

/** Connect Now or a changed configuration: ends an authentication backoff, queues a rerun if a cycle runs. */
export function noteRunRequested(status: AccountStatus): void {
  status.authBackoff = null;
  status.rerunQueued = status.phase !== 'waiting' && status.phase !== 'disabled';
}

/** What the last delivery attempt left behind; a delivery error stays until the backlog is gone. */
export function noteDelivery(status: AccountStatus, backlog: DeliveryBacklog, deliveryError: string | null, at: string): void {
  status.delivery.backlog = backlogIn(backlog);
  status.delivery.quarantined = backlog.quarantined;
  status.delivery.nextAttemptAt = backlog.nextAttemptAt;
  if (deliveryError) status.delivery.lastError = { message: deliveryError, at };
  else if (status.delivery.backlog === 0) status.delivery.lastError = null;
}

/** A retry of the held messages; counted in the running cycle's run, if there is one. */
export function noteHeldRetry(status: AccountStatus, run: RunSummary | null, held: HeldSummary, at: string): void {
  addTally(status.counts, held);
  // still held: they were held by an earlier run, not by this one
  if (run) addTally(run, { ...held, held: 0 });
  noteDelivery(status, held.backlog, held.deliveryError, at);
}

/** A retry of the held messages between cycles that failed as a whole: tried again in a minute. */
export function noteHeldRetryFailed(status: AccountStatus, failure: Failure, now: number): void {
  status.delivery.lastError = { message: failure.message, at: new Date(now).toISOString() };
  status.delivery.nextAttemptAt = new Date(now + 60_000).toISOString();
}

export function noteListing(status: AccountStatus, run: RunSummary, listed: ListSummary, at: string): void {
  status.tls = listed.tls;
  status.tlsWarning = listed.tlsWarning;
  // absent from summaries recorded before it existed
  status.folderWarning = listed.folderWarning ?? null;
  if (listed.resyncedFolders.length > 0) status.lastResync = { folders: listed.resyncedFolders, at };
  run.resyncedFolders = listed.resyncedFolders;
  run.onServer = listed.onServer;
  run.newOnServer = listed.newOnServer;
  run.tooLarge = listed.tooLarge;
  run.skipped = listed.skipped;
  status.phase = 'downloading';
  status.progress = { done: 0, total: toDownloadIn(listed) };
}

/**
 * One downloaded batch; returns how many messages are left to download this cycle: none once a
 * target answers "later", and none when the batch changed nothing (another would do the same).
 */
export function noteBatch(status: AccountStatus, run: RunSummary, batch: BatchSummary, remainingBefore: number, at: string): number {
  const handled = handledIn(batch);
  if (handled === 0 && batch.remaining >= remainingBefore) return 0;
  addTally(run, batch);
  addTally(status.counts, batch);
  run.downloadedBytes += batch.bytes;
  noteDelivery(status, batch.backlog, batch.deliveryError, at);
  const done = (status.progress?.done ?? 0) + handled;
  status.progress = { done, total: Math.max(status.progress?.total ?? 0, done + batch.remaining) };
  return batch.held > 0 ? 0 : batch.remaining;
}

export function noteRemoved(status: AccountStatus, run: RunSummary, removed: number): void {
  run.removed = removed;
  status.counts.removed += removed;
  status.lastError = null;
  status.authBackoff = null;
  status.providerWait = null;
}

/** A cycle that failed: an authentication failure earns a growing wait; a disabled account just skipped it. */
export function noteCycleFailed(status: AccountStatus, run: RunSummary, failure: Failure, intervalMs: number, at: string): void {
  if (failure.kind === 'auth') {
    const failures = (status.authBackoff?.failures ?? 0) + 1;
    status.authBackoff = { failures, delaySeconds: authBackoffMs(intervalMs, failures) / 1000 };
  }
  if (failure.kind === 'inactive') {
    run.outcome = 'skipped';
    return;
  }
  // the provider asked to wait: not a failure, and the status says until when
  if (failure.kind === 'throttled') {
    run.outcome = 'deferred';
    status.providerWait = { message: failure.message, at };
    return;
  }
  run.outcome = 'failed';
  status.counts.failedCycles++;
  status.lastError = { ...failure, at };
}

export function finishRun(status: AccountStatus, run: RunSummary, at: string): void {
  status.progress = null;
  status.counts.cycles++;
  run.finishedAt = at;
  status.lastRun = run;
}

/** After a cycle: waiting, or waiting for a new OAuth2 grant if the provider refused the old one. */
export function noteCycleEnded(status: AccountStatus): void {
  const reauth = status.lastError?.kind === 'reauth' && status.lastRun?.outcome === 'failed';
  status.phase = reauth ? 'reauthorization_needed' : 'waiting';
  if (reauth) status.disabledReason = status.lastError?.message ?? null;
}

/** How long to wait for the next cycle: the interval, or the authentication backoff. */
export const nextWaitMs = (status: AccountStatus, intervalMs: number): number =>
  status.authBackoff ? status.authBackoff.delaySeconds * 1000 : intervalMs;

/**
 * IMAP push for the next wait. After a failed cycle (or one the provider deferred) only the
 * schedule retries: new mail that such a cycle cannot take would otherwise wake the account again
 * at once, in a loop.
 */
export function pushModeFor(status: AccountStatus, active: boolean, push: boolean): 'off' | 'paused' | 'on' {
  if (!active || !push) return 'off';
  return status.lastRun?.outcome === 'failed' || status.lastRun?.outcome === 'deferred' ? 'paused' : 'on';
}

/** Why an account does not collect: disabled, or waiting for a new OAuth2 grant. */
export function noteInactive(status: AccountStatus, cause: 'disabled' | 'reauthorization', reason: string): void {
  status.phase = cause === 'reauthorization' ? 'reauthorization_needed' : 'disabled';
  status.disabledReason = reason;
}

/** When a cycle's times fall: its start and end (ISO), and the interval it waits on (ms). */
export interface CycleClock {
  startedAt: string;
  finishedAt: string;
  intervalMs: number;
}

/** The next cycle: the scheduled wait counted from the cycle's start, or the authentication backoff. */
export function noteNextRun(status: AccountStatus, accountId: string, { startedAt, finishedAt, intervalMs }: CycleClock): void {
  const end = Date.parse(finishedAt);
  const wait = nextWaitMs(status, scheduledWaitMs(accountId, intervalMs, end - Date.parse(startedAt)));
  status.nextRunAt = new Date(end + wait).toISOString();
}

/**
 * The end of a cycle that found nothing to download and nothing held: what the listing showed,
 * what the delete policy removed, and the wait for the next one.
 */
export function noteQuietCycle(status: AccountStatus, accountId: string, listed: ListSummary, removed: number, clock: CycleClock): void {
  noteActive(status);
  const run = startRun(clock.startedAt);
  noteListing(status, run, listed, clock.finishedAt);
  noteRemoved(status, run, removed);
  noteCycleDone(status, accountId, run, null, clock);
}

/** The end of any cycle: failed (with why) or done, counted, and the wait for the next one. */
export function noteCycleDone(status: AccountStatus, accountId: string, run: RunSummary, failure: Failure | null, clock: CycleClock): void {
  if (failure) noteCycleFailed(status, run, failure, clock.intervalMs, clock.finishedAt);
  finishRun(status, run, clock.finishedAt);
  noteCycleEnded(status);
  noteNextRun(status, accountId, clock);
}
