import { Context } from '@temporalio/activity';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import { WEBHOOK_EVENTS } from '../../core/webhook-events';
import { configChangedSignal, connectNowSignal, stopSignal } from '../../workflows/definitions';
import { waitFor } from '../../testkit/env';
import { batch, heldSummary, inactiveSchedule, listed, schedule } from '../support/summaries';
import { StubActivities, TEMPORAL_CLI, waitForStatus, withAccountWorkflow } from '../support/workflow-env';

/**
 * Records histories of the account workflow for the replay test (test/workflows/replay.test.ts):
 * run it on the current code before changing the workflow, and commit what it writes next to the
 * older recordings, so the replay test proves the change keeps running accounts replaying. Uses
 * the Temporal dev server that scripts/setup.sh builds, with continue-as-new suggested early, and
 * stub activities.
 *   npm run record-histories -- LABEL      writes test/workflows/histories/LABEL-*.json
 */
const FIXTURES = path.resolve(__dirname, '../../../test/workflows/histories');
const TEMPORAL = TEMPORAL_CLI;

const LABEL = process.argv[2] ?? '';
type Handle = WorkflowHandleWithFirstExecutionRunId;

async function save(env: TestWorkflowEnvironment, handle: Handle, name: string): Promise<void> {
  const { runId } = await env.client.workflow.getHandle(handle.workflowId).describe();
  const runs = [handle.firstExecutionRunId, ...(runId !== handle.firstExecutionRunId ? [runId] : [])];
  for (const [i, run] of runs.entries()) {
    // The CLI writes the proto JSON other Temporal tools read (historyToJSON trips over two protobufjs copies).
    const { stdout } = await promisify(execFile)(
      TEMPORAL,
      ['workflow', 'show', '--address', env.address, '-w', handle.workflowId, '-r', run, '-o', 'json'],
      { maxBuffer: 64 << 20 },
    );
    const history = JSON.parse(stdout) as { events: unknown[] };
    const file = path.join(FIXTURES, `${LABEL}-${name}${runs.length > 1 ? `-run${i + 1}` : ''}.json`);
    await writeFile(file, `${JSON.stringify(history, null, 1)}\n`);
    console.log(`${file}: ${history.events.length} events`);
  }
}

/** Every webhook event the workflow dispatches gets one delivery, so the histories hold the delivery workflows it starts. */
function withWebhookDeliveries(stubs: StubActivities): StubActivities {
  stubs.subscribed = [...WEBHOOK_EVENTS];
  stubs.impl.dispatchWebhookEvents = (_accountId, events) =>
    Promise.resolve({ deliveryIds: events.map((e) => e.id), retryMs: 1000, timeoutMs: 1000 });
  return stubs;
}

/** Cycles by Connect Now, one pressed during a download, held messages, a changed configuration, continue-as-new. */
async function cyclesAndContinueAsNew(env: TestWorkflowEnvironment): Promise<void> {
  const stubs = withWebhookDeliveries(new StubActivities());
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let held = 0;
  stubs.impl.loadSchedule = () => Promise.resolve(schedule({ backlog: held }));
  stubs.impl.listNew = () => Promise.resolve(listed(2, { onServer: 5 }));
  stubs.impl.downloadBatch = async () => {
    const n = stubs.of('downloadBatch').length;
    if (n === 2) await released;
    if (n === 3) {
      held = 1;
      return batch({
        delivered: 1,
        held: 1,
        bytes: 300,
        deliveryError: '451 later',
        backlog: { backlog: 1, quarantined: 0, nextAttemptAt: new Date(Date.now() + 3_600_000).toISOString() },
      });
    }
    return batch({ delivered: 2, bytes: 600 });
  };
  stubs.impl.deliverHeldMessages = () => {
    held = 0;
    return Promise.resolve(heldSummary({ delivered: 1 }));
  };
  stubs.impl.applyDeletePolicy = () => Promise.resolve({ removed: 1 });
  await withAccountWorkflow(env, stubs, async (handle) => {
    await waitForStatus(handle, 'the first cycle', (s) => s.counts.cycles === 1 && s.phase === 'waiting');
    await handle.signal(connectNowSignal);
    await waitForStatus(handle, 'a download', (s) => s.phase === 'downloading');
    await handle.signal(connectNowSignal);
    release();
    await waitForStatus(handle, 'the rerun', (s) => s.counts.cycles === 3 && s.phase === 'waiting');
    await handle.signal(configChangedSignal);
    for (let cycles = 4; ; cycles++) {
      const { runId } = await env.client.workflow.getHandle(handle.workflowId).describe();
      if (runId !== handle.firstExecutionRunId) break;
      await waitForStatus(handle, `cycle ${cycles - 1}`, (s) => s.phase === 'waiting');
      await handle.signal(connectNowSignal);
      await waitFor(`cycle ${cycles}`, () => stubs.of('listNew').length >= cycles);
    }
    const latest = env.client.workflow.getHandle(handle.workflowId);
    await waitForStatus(latest, 'the new run waiting', (s) => s.phase === 'waiting');
    await latest.signal(connectNowSignal);
    await waitForStatus(
      latest,
      'a cycle in the new run',
      (s) => s.phase === 'waiting' && s.nextRunAt !== null && stubs.of('applyDeletePolicy').length > 0,
    );
    await save(env, handle, 'cycles-connect-now-continue-as-new');
  });
}

/** IMAP push: IDLE wakes a cycle, Connect Now cancels IDLE, a failed cycle pauses push, stop ends the workflow. */
async function push(env: TestWorkflowEnvironment): Promise<void> {
  const stubs = withWebhookDeliveries(new StubActivities());
  stubs.impl.loadSchedule = () => Promise.resolve(schedule({ push: true }));
  stubs.impl.listNew = () =>
    stubs.of('listNew').length === 4
      ? Promise.reject(ApplicationFailure.create({ type: 'network', message: 'connection reset', nonRetryable: true }))
      : Promise.resolve(listed(1, { tls: 'starttls' }));
  stubs.impl.downloadBatch = () => Promise.resolve(batch({ delivered: 1, bytes: 100 }));
  stubs.impl.waitForNewMail = async () => {
    if (stubs.of('waitForNewMail').length === 1) return 'new-mail';
    const context = Context.current();
    for (;;) {
      context.heartbeat();
      await Promise.race([context.cancelled, context.sleep(200)]);
    }
  };
  await withAccountWorkflow(env, stubs, async (handle) => {
    await waitFor('IDLE again after the pushed cycle', () => stubs.of('waitForNewMail').length === 2);
    await waitForStatus(handle, 'listening', (s) => s.push === 'listening' && s.counts.cycles === 2);
    await handle.signal(connectNowSignal);
    await waitForStatus(handle, 'Connect Now cycle', (s) => s.counts.cycles === 3 && s.push === 'listening');
    await handle.signal(connectNowSignal);
    await waitForStatus(handle, 'a failed cycle', (s) => s.push === 'paused');
    await handle.signal(stopSignal);
    await handle.result();
    await save(env, handle, 'push');
  });
}

/** Disabled, then authentication failures with backoff, then deleted. */
async function disabledAuthGone(env: TestWorkflowEnvironment): Promise<void> {
  const stubs = withWebhookDeliveries(new StubActivities());
  let state: 'inactive' | 'active' | 'gone' = 'inactive';
  stubs.impl.loadSchedule = () =>
    Promise.resolve(
      state === 'inactive'
        ? inactiveSchedule('the account is disabled', 60)
        : state === 'active'
          ? schedule({ intervalSeconds: 60 })
          : { activeness: state, backlog: 0 },
    );
  stubs.impl.listNew = () =>
    Promise.reject(ApplicationFailure.create({ type: 'auth', message: 'authentication failed', nonRetryable: true }));
  await withAccountWorkflow(env, stubs, async (handle) => {
    await waitForStatus(handle, 'disabled', (s) => s.phase === 'disabled');
    state = 'active';
    await handle.signal(configChangedSignal);
    await waitForStatus(handle, 'an auth failure', (s) => s.authBackoff?.failures === 1);
    await handle.signal(connectNowSignal);
    await waitFor('a second login', () => stubs.of('listNew').length === 2);
    await waitForStatus(handle, 'waiting', (s) => s.phase === 'waiting');
    state = 'gone';
    await handle.signal(configChangedSignal);
    await handle.result();
    await save(env, handle, 'disabled-auth-gone');
  });
}

async function main(): Promise<void> {
  if (!/^[a-z0-9.]+$/.test(LABEL)) throw new Error('usage: record-histories LABEL (e.g. v2; lowercase letters, digits, dots)');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  await mkdir(FIXTURES, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL },
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=200'],
    },
  });
  try {
    await cyclesAndContinueAsNew(env);
    await push(env);
    await disabledAuthGone(env);
  } finally {
    await env.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
