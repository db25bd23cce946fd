import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AccountStatus } from '../../core/account-status';
import { connectNowSignal } from '../../workflows/definitions';
import { batch, listed } from '../support/summaries';
import { statusOf, StubActivities, TEMPORAL_CLI, waitForStatus, withAccountWorkflow } from '../support/workflow-env';

/** Continue-as-new suggested after this many history events, as test.sh and record-histories set it. */
const SUGGEST_AFTER_EVENTS = 200;

/**
 * Continue-as-new with stub activities. Temporal's time-skipping test server never suggests it, so
 * this file runs the dev server that scripts/setup.sh builds, with the suggestion lowered; its
 * cycles are driven by Connect Now, not by time.
 */
describe('account workflow continue-as-new', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: TEMPORAL_CLI },
        extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AFTER_EVENTS}`],
      },
    });
  });
  after(async () => {
    await env?.teardown();
  });

  test('a long history continues as new, carrying the status: counts go on, no cycle is lost or repeated', async () => {
    const stubs = new StubActivities();
    // the first cycle delivers a message; the others find nothing
    stubs.impl.listNew = () => Promise.resolve(listed(stubs.of('listNew').length === 1 ? 1 : 0));
    stubs.impl.downloadBatch = () => Promise.resolve(batch({ delivered: 1 }));
    await withAccountWorkflow(env, stubs, async (handle) => {
      let status = await waitForStatus(handle, 'the first cycle', (s) => s.counts.cycles === 1 && s.phase === 'waiting');
      const runIdNow = async (): Promise<string> => (await handle.describe()).runId;
      for (let cycles = 1; (await runIdNow()) === handle.firstExecutionRunId; cycles++) {
        assert.ok(cycles < 100, `no continue-as-new after ${cycles} cycles`);
        await handle.signal(connectNowSignal);
        status = await waitForStatus(handle, `cycle ${cycles + 1}`, (s) => s.counts.cycles === cycles + 1 && s.phase === 'waiting');
      }
      const first = await env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
      const last = first.events?.at(-1);
      assert.ok(last?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continuing as new');
      assert.ok((first.events?.length ?? 0) >= SUGGEST_AFTER_EVENTS);

      // the new run starts with the status the old one had, and goes on counting from it
      const carried = (await statusOf(handle)).counts;
      assert.equal(carried.cycles, status.counts.cycles);
      assert.equal(carried.delivered, 1);
      await handle.signal(connectNowSignal);
      const next = await waitForStatus(handle, 'a cycle in the new run', (s: AccountStatus) => s.counts.cycles === carried.cycles + 1);
      assert.equal(next.counts.delivered, 1);
      assert.equal(next.lastRun?.outcome, 'ok');
      assert.equal(stubs.of('startCycle').length, next.counts.cycles, 'one cycle per startCycle, none lost or repeated');
    });
  });
});
