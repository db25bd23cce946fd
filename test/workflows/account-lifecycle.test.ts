import { CancelledFailure, Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../../testkit/env';
import { configChangedSignal, stopSignal } from '../../workflows/definitions';
import { inactiveSchedule, schedule } from '../support/summaries';
import { startTimeSkipping, statusOf, StubActivities, waitForStatus, withAccountWorkflow } from '../support/workflow-env';

const HOUR = 3_600_000;

/** The workflow's end; a workflow that goes on fails the test instead of holding up the file. */
const ended = (handle: WorkflowHandle, what: string): Promise<unknown> =>
  Promise.race([
    handle.result(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: the workflow did not end within 20 s`)), 20_000).unref()),
  ]);

/** How an account workflow stops collecting, starts again and ends, on Temporal's time-skipping test server. */
describe('account workflow lifecycle', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTimeSkipping();
  });
  after(async () => {
    await env?.teardown();
  });

  test('a disabled account logs in nowhere and says why, hour after hour; enabled again, it collects at once', async () => {
    const stubs = new StubActivities();
    let enabled = false;
    stubs.impl.loadSchedule = () =>
      Promise.resolve(enabled ? schedule() : inactiveSchedule('the domain example.com is disabled', HOUR / 1000));
    await withAccountWorkflow(env, stubs, async (handle) => {
      let status = await waitForStatus(handle, 'disabled', (s) => s.phase === 'disabled');
      assert.equal(status.disabledReason, 'the domain example.com is disabled');
      await env.sleep(3 * HOUR);
      await waitFor('three more looks at the schedule', () => stubs.of('loadSchedule').length >= 4);
      assert.equal(stubs.of('listNew').length, 0);
      assert.equal((await statusOf(handle)).phase, 'disabled');

      enabled = true;
      await handle.signal(configChangedSignal);
      status = await waitForStatus(handle, 'a cycle', (s) => s.counts.cycles === 1 && s.phase === 'waiting');
      assert.equal(status.disabledReason, null);
      assert.equal(stubs.of('listNew').length, 1);
    });
  });

  test('an account deleted before or during a cycle ends its workflow; no login follows', async () => {
    for (const when of ['before', 'during'] as const) {
      const stubs = new StubActivities();
      if (when === 'before') stubs.impl.loadSchedule = () => Promise.resolve({ activeness: 'gone', backlog: 0 });
      else stubs.impl.listNew = () => Promise.reject(ApplicationFailure.create({ type: 'gone', message: 'deleted', nonRetryable: true }));
      await withAccountWorkflow(env, stubs, async (handle) => {
        await ended(handle, `deleted ${when} a cycle`);
        assert.equal((await statusOf(handle)).phase, 'stopped', when);
        assert.equal(stubs.of('listNew').length, when === 'before' ? 0 : 1, when);
        assert.equal(stubs.of('loadSchedule').length, 1, `${when}: the workflow looked no further`);
      });
    }
  });

  test('stop ends the workflow during its wait, and no cycle follows', async () => {
    const stubs = new StubActivities();
    await withAccountWorkflow(env, stubs, async (handle) => {
      await waitForStatus(handle, 'the first cycle', (s) => s.counts.cycles === 1 && s.phase === 'waiting');
      await handle.signal(stopSignal);
      await ended(handle, 'stopped');
      const status = await statusOf(handle);
      assert.equal(status.phase, 'stopped');
      assert.equal(status.counts.cycles, 1);
      assert.equal(stubs.of('listNew').length, 1);
    });
  });

  test("the interval's end cancels a waiting IMAP IDLE watch, and the next cycle follows", async () => {
    const stubs = new StubActivities();
    // the test server does not skip time while an activity runs, as IDLE does: an interval of real seconds
    stubs.impl.loadSchedule = () => Promise.resolve(schedule({ intervalSeconds: 3, push: true }));
    let cancelled = 0;
    stubs.impl.waitForNewMail = async () => {
      const context = Context.current();
      try {
        // IDLE holds until cancelled; the cancellation comes with the answer to a heartbeat
        for (;;) {
          context.heartbeat();
          await context.sleep(100);
        }
      } catch (err) {
        if (err instanceof CancelledFailure) cancelled++;
        throw err;
      }
    };
    await withAccountWorkflow(env, stubs, async (handle) => {
      await waitFor('IDLE held', () => stubs.of('waitForNewMail').length === 1);
      assert.equal((await statusOf(handle)).push, 'listening');
      await waitFor('the second cycle', () => stubs.of('listNew').length === 2, 20_000);
      await waitFor('the watch heard of its cancellation', () => cancelled === 1);
      const status = await waitForStatus(handle, 'listening again', (s) => s.counts.cycles === 2 && s.push === 'listening');
      assert.equal(status.pushError, null, 'a cancelled watch is no failure');
      assert.equal(status.lastPushAt, null, 'nor new mail');
    });
  });
});
