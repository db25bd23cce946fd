import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Activities } from '../../activities';
import type { AccountStatus } from '../../core/account-status';
import { finishCycle, startCycle, type CycleFinishInput, type CycleStartInput, type CycleSteps } from '../../activities/cycle';
import type { WebhookEventName } from '../../core/webhook-events';
import { idleTaskQueue } from '../../core/task-queues';
import { WORKFLOW_BUNDLE } from '../../worker/bundle';
import { statusQuery, stopSignal, workflowIdFor } from '../../workflows/definitions';
import type { externalAccountWorkflow } from '../../workflows/external-account';
import { waitFor } from '../../testkit/env';
import { batch, heldSummary, listed, schedule } from './summaries';

/** Temporal's time-skipping test server, started by the tests from the launcher scripts/test-server.sh prints. */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const path = process.env.MAILPULL_TEST_SERVER_BIN;
  if (!path) throw new Error('MAILPULL_TEST_SERVER_BIN is not set: run "npm run test:workflows" (Java and Maven: scripts/setup.sh --test)');
  // The stubs fail activities on purpose; their stack traces would bury the test report.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}

/** The Temporal CLI (dev server) that scripts/setup.sh builds from source. */
export const TEMPORAL_CLI = path.join(
  process.env.MAILPULL_CACHE_DIR ?? path.join(process.env.HOME ?? '', '.cache/mailpull'),
  'temporal-v1.5.1/temporal',
);

type Name = keyof Activities;
export interface Call {
  name: Name;
  args: unknown[];
  /** when the attempt was scheduled, on the test server's (skipping) clock */
  at: number;
}

type Composed = 'startCycle' | 'finishCycle';

/**
 * The activities of one account as stubs a test replaces one by one; every attempt is logged.
 * startCycle and finishCycle are the worker's own composition (activities/cycle.ts) of the
 * stubbed steps, each step logged under its name.
 */
export class StubActivities {
  readonly calls: Call[] = [];
  /** the events any webhook takes */
  subscribed: WebhookEventName[] = [];
  impl: Omit<Activities, Composed> = {
    loadSchedule: () => Promise.resolve(schedule()),
    listNew: () => Promise.resolve(listed(0)),
    downloadBatch: () => Promise.resolve(batch()),
    deliverHeldMessages: () => Promise.resolve(heldSummary()),
    applyDeletePolicy: () => Promise.resolve({ removed: 0 }),
    waitForNewMail: () => Promise.resolve('off'),
    recordStatus: () => Promise.resolve(),
    dispatchWebhookEvents: () => Promise.resolve({ deliveryIds: [], retryMs: 1000, timeoutMs: 1000 }),
    deliverWebhook: () => Promise.resolve('delivered'),
    giveUpWebhookDelivery: () => Promise.resolve(),
  };

  /** What the worker runs: each call logged, then passed to the current stub. */
  activities(): Activities {
    const logged = {} as Record<Name, (...args: unknown[]) => Promise<unknown>>;
    const log = (name: Name, run: (...args: unknown[]) => Promise<unknown>) => {
      logged[name] = (...args: unknown[]) => {
        this.calls.push({ name, args: structuredClone(args), at: Context.current().info.currentAttemptScheduledTimestampMs });
        return run(...args);
      };
    };
    for (const name of Object.keys(this.impl) as Exclude<Name, Composed>[]) {
      log(name, (...args) => (this.impl[name] as (...a: unknown[]) => Promise<unknown>)(...args));
    }
    const steps = logged as unknown as Activities;
    const cycleSteps: CycleSteps = {
      loadSchedule: (id) => steps.loadSchedule(id),
      list: async (id, deleteIfQuiet) => {
        const listed = await steps.listNew(id);
        const removed = deleteIfQuiet && listed.toDownload === 0 ? (await steps.applyDeletePolicy(id)).removed : 0;
        return { listed, removed };
      },
      applyDeletePolicy: (id) => steps.applyDeletePolicy(id),
      recordStatus: (id, status) => steps.recordStatus(id, status),
      subscribedEvents: () => Promise.resolve(this.subscribed),
    };
    log('startCycle', (id, input) => startCycle(cycleSteps, id as string, input as CycleStartInput));
    log('finishCycle', (id, input) => finishCycle(cycleSteps, id as string, input as CycleFinishInput));
    return steps;
  }

  of(name: Name): Call[] {
    return this.calls.filter((c) => c.name === name);
  }
}

/** A worker on the test server running the built workflow bundle against stub activities. */
export async function withAccountWorkflow(
  env: TestWorkflowEnvironment,
  stubs: StubActivities,
  test: (handle: WorkflowHandleWithFirstExecutionRunId<typeof externalAccountWorkflow>) => Promise<void>,
): Promise<void> {
  const taskQueue = `wf-${randomBytes(6).toString('hex')}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
    activities: stubs.activities(),
  });
  // the IMAP IDLE watches' queue, as worker/main.ts serves it
  const idleWorker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: idleTaskQueue(taskQueue),
    activities: stubs.activities(),
    // a cancellation reaches a running activity in the answer to a heartbeat, which the SDK would
    // otherwise send only every 24 s (0.8 of the watch's heartbeat timeout)
    maxHeartbeatThrottleInterval: 100,
  });
  await worker.runUntil(
    idleWorker.runUntil(async () => {
      const externalAccountId = randomBytes(8).toString('hex');
      const handle = await env.client.workflow.start<typeof externalAccountWorkflow>('externalAccountWorkflow', {
        taskQueue,
        workflowId: workflowIdFor(externalAccountId),
        args: [{ externalAccountId }],
      });
      try {
        await test(handle);
        // A task of a terminated workflow may still count as in flight on the test server, which then
        // skips no time for the tests that follow: the workflow ends itself, terminated only if stuck.
        // A test that ended it already (stop, account deleted) leaves nothing to signal.
        await handle.signal(stopSignal).catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        });
        await Promise.race([handle.result(), new Promise((resolve) => setTimeout(resolve, 15_000).unref())]);
      } finally {
        await handle.terminate().catch(() => undefined);
      }
    }),
  );
}

export const statusOf = (handle: WorkflowHandle): Promise<AccountStatus> => handle.query(statusQuery);

/** Polls the status (in real time, no skipping) until it satisfies the probe. */
export const waitForStatus = (handle: WorkflowHandle, what: string, probe: (s: AccountStatus) => boolean): Promise<AccountStatus> =>
  waitFor(
    what,
    async () => {
      const s = await statusOf(handle);
      return probe(s) ? s : undefined;
    },
    20_000,
    20,
  );
