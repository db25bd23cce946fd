import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
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

function initialStatus(externalAccountId: string): AccountStatus {
  return {
    externalAccountId,
    phase: 'starting',
    disabledReason: null,
    progress: null,
    tls: null,
    lastRun: null,
    lastError: null,
    nextRunAt: null,
    rerunQueued: false,
    counts: { cycles: 0, failedCycles: 0, delivered: 0, removed: 0 },
  };
}

function emptyRun(startedAt: string): RunSummary {
  const zero = { onServer: 0, newOnServer: 0, downloaded: 0, downloadedBytes: 0, removed: 0, tooLarge: 0 };
  return { startedAt, finishedAt: startedAt, outcome: 'ok', ...zero };
}

function failureOf(err: unknown): { kind: ErrorKind | 'unknown'; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { kind: (cause.type ?? 'unknown') as ErrorKind, message: cause.message };
  return { kind: 'unknown', message: err instanceof Error ? err.message : String(err) };
}

/** One long-running workflow per external account: cycles never overlap. */
export async function externalAccountWorkflow(input: ExternalAccountWorkflowInput): Promise<void> {
  const id = input.externalAccountId;
  const status = input.status ?? initialStatus(id);
  let wake = false;
  let stop = false;

  setHandler(statusQuery, () => status);
  const requestRun = (): void => {
    wake = true;
    status.rerunQueued = status.phase !== 'waiting' && status.phase !== 'disabled';
  };
  setHandler(connectNowSignal, requestRun);
  setHandler(configChangedSignal, requestRun);
  setHandler(stopSignal, () => {
    stop = true;
  });

  async function cycle(): Promise<'gone' | 'done'> {
    const run = emptyRun(new Date().toISOString());
    try {
      status.phase = 'listing';
      const listed = await mail.listNew(id);
      status.tls = listed.tls;
      run.onServer = listed.onServer;
      run.newOnServer = listed.newlySeen;
      run.tooLarge = listed.tooLarge;
      status.phase = 'downloading';
      status.progress = { done: 0, total: listed.pending };
      let remaining = listed.pending;
      while (remaining > 0 && !stop) {
        const batch = await mail.downloadBatch(id);
        if (batch.delivered === 0) break;
        run.downloaded += batch.delivered;
        run.downloadedBytes += batch.bytes;
        status.counts.delivered += batch.delivered;
        status.progress = { done: run.downloaded, total: Math.max(status.progress.total, run.downloaded + batch.remaining) };
        remaining = batch.remaining;
      }
      status.phase = 'deleting';
      run.removed = (await mail.applyDeletePolicy(id)).removed;
      status.counts.removed += run.removed;
      status.lastError = null;
    } catch (err) {
      const failure = failureOf(err);
      if (failure.kind === 'gone') return 'gone';
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

  while (!stop) {
    const schedule = await loadSchedule(id);
    if (schedule.state === 'gone') break;
    wake = false;
    status.rerunQueued = false;
    if (schedule.state === 'active') {
      status.disabledReason = null;
      if ((await cycle()) === 'gone') break;
      status.phase = 'waiting';
    } else {
      status.phase = 'disabled';
      status.disabledReason = schedule.reason;
    }
    status.nextRunAt = new Date(Date.now() + schedule.intervalSeconds * 1000).toISOString();
    await condition(() => wake || stop, schedule.intervalSeconds * 1000);
    status.nextRunAt = null;
    if (workflowInfo().continueAsNewSuggested && !stop) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof externalAccountWorkflow>({ externalAccountId: id, status });
    }
  }
  status.phase = 'stopped';
}
