import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authBackoffMs } from '../../core/auth-backoff';
import type { AccountStatus } from '../../core/account-status';
import { connectNowSignal } from '../../workflows/definitions';
import { waitFor } from '../../testkit/env';
import { batch, heldSummary, listed, schedule } from '../support/summaries';
import { startTimeSkipping, statusOf, StubActivities, waitForStatus, withAccountWorkflow } from '../support/workflow-env';

const now = (): number => Context.current().info.currentAttemptScheduledTimestampMs;
const SECOND = 1000;

/** The account workflow's timing on Temporal's time-skipping test server: hours of schedule in milliseconds. */
describe('account workflow timing', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTimeSkipping();
  });
  after(async () => {
    await env?.teardown();
  });

  test('authentication failures wait the interval, then twice as long each time; Connect Now ends the backoff', async () => {
    const stubs = new StubActivities();
    stubs.impl.loadSchedule = () => Promise.resolve(schedule({ intervalSeconds: 60 }));
    stubs.impl.listNew = () =>
      Promise.reject(ApplicationFailure.create({ type: 'auth', message: 'authentication failed', nonRetryable: true }));
    await withAccountWorkflow(env, stubs, async (handle) => {
      await waitForStatus(handle, 'the first failure', (s) => s.authBackoff?.failures === 1);
      await env.sleep(4 * 60 * SECOND);
      const status = await waitForStatus(handle, 'the third failure', (s) => s.authBackoff?.failures === 3);
      assert.equal(status.authBackoff?.delaySeconds, authBackoffMs(60 * SECOND, 3) / SECOND);
      assert.equal(status.phase, 'waiting');
      assert.equal(stubs.of('listNew').length, 3, 'one login per cycle: an auth failure is not retried within the cycle');
      const ends = stubs.of('recordStatus').map((c) => c.at);
      const recorded = stubs.of('recordStatus')[0].args[1] as AccountStatus;
      assert.equal(recorded.phase, 'waiting', 'each cycle ends with its status kept in Postgres');
      assert.equal(recorded.lastError?.kind, 'auth');
      assertNear(Date.parse(recorded.nextRunAt ?? ''), ends[0] + authBackoffMs(60 * SECOND, 1));
      // the wait runs from a cycle's end (its status record) to the next cycle's start
      const starts = stubs.of('loadSchedule').map((c) => c.at);
      assertNear(starts[1] - ends[0], authBackoffMs(60 * SECOND, 1));
      assertNear(starts[2] - ends[1], authBackoffMs(60 * SECOND, 2));

      const pressedAt = await env.currentTimeMs();
      await handle.signal(connectNowSignal);
      await waitFor('a login at once', () => stubs.of('listNew').length === 4);
      assertNear(stubs.of('listNew')[3].at, pressedAt);
      // the count starts again after Connect Now
      await waitForStatus(handle, 'the first failure of a new count', (s) => s.authBackoff?.failures === 1);
    });
  });

  test('Connect Now during a cycle queues exactly one more cycle, which follows at once', async () => {
    const stubs = new StubActivities();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    stubs.impl.listNew = () => Promise.resolve(listed(1));
    stubs.impl.downloadBatch = async () => {
      if (stubs.of('downloadBatch').length === 1) await released;
      return batch({ delivered: 1 });
    };
    await withAccountWorkflow(env, stubs, async (handle) => {
      await waitForStatus(handle, 'the first download', (s) => s.phase === 'downloading');
      await handle.signal(connectNowSignal);
      await handle.signal(connectNowSignal);
      assert.equal((await statusOf(handle)).rerunQueued, true);
      release();
      const status = await waitForStatus(handle, 'two cycles', (s) => s.counts.cycles === 2 && s.phase === 'waiting');
      assert.equal(status.rerunQueued, false);
      assert.equal(status.counts.delivered, 2);
      const logins = stubs.of('listNew');
      assert.equal(logins.length, 2, 'two presses during one cycle queue one rerun');
      assertNear(logins[1].at - logins[0].at, 0, 2 * SECOND);
    });
  });

  test('push pauses after a failed cycle and listens again after a good one', async () => {
    const stubs = new StubActivities();
    let failing = true;
    stubs.impl.loadSchedule = () => Promise.resolve(schedule({ intervalSeconds: 600, push: true }));
    let endIdle!: () => void;
    const idleEnded = new Promise<'off'>((r) => (endIdle = () => r('off')));
    stubs.impl.waitForNewMail = () => idleEnded;
    stubs.impl.listNew = () =>
      failing ? Promise.reject(ApplicationFailure.create({ type: 'network', message: 'connection reset' })) : Promise.resolve(listed(0));
    await withAccountWorkflow(env, stubs, async (handle) => {
      await env.sleep(2 * 60 * SECOND);
      let status = await waitForStatus(handle, 'a failed cycle', (s) => s.lastRun?.outcome === 'failed' && s.phase === 'waiting');
      assert.equal(status.push, 'paused');
      assert.equal(stubs.of('listNew').length, 5, 'network trouble is retried within the cycle, 5 attempts');
      assert.equal(stubs.of('waitForNewMail').length, 0);

      // The test server does not skip time while an activity runs, as IDLE does: Connect Now instead.
      failing = false;
      await handle.signal(connectNowSignal);
      status = await waitForStatus(handle, 'a good cycle listening', (s) => s.lastRun?.outcome === 'ok' && s.push === 'listening');
      assert.equal(status.counts.failedCycles, 1);
      await waitFor('IDLE held', () => stubs.of('waitForNewMail').length === 1);
      // An activity in flight keeps the test server from skipping time, for the tests that follow too.
      endIdle();
      await waitForStatus(handle, 'IDLE ended', (s) => s.push === 'off');
    });
  });

  test('held messages are tried again when due, between cycles, until a target takes them', async () => {
    const stubs = new StubActivities();
    const due: number[] = [];
    const backlogAt = (n: number, nextMs: number) => ({ backlog: n, quarantined: 0, nextAttemptAt: new Date(nextMs).toISOString() });
    stubs.impl.listNew = () => Promise.resolve(listed(2));
    stubs.impl.downloadBatch = () => {
      due.push(now() + 30 * SECOND);
      return Promise.resolve(batch({ held: 2, remaining: 0, deliveryError: '451 try later', backlog: backlogAt(2, due[0]) }));
    };
    stubs.impl.deliverHeldMessages = () => {
      if (due.length === 1) {
        due.push(now() + 90 * SECOND);
        return Promise.resolve(heldSummary({ held: 1, deliveryError: '451 still later', backlog: backlogAt(2, due[1]) }));
      }
      return Promise.resolve(heldSummary({ delivered: 2 }));
    };
    await withAccountWorkflow(env, stubs, async (handle) => {
      let status = await waitForStatus(handle, 'messages held', (s) => s.delivery.backlog === 2 && s.phase === 'waiting');
      assert.equal(status.delivery.lastError?.message, '451 try later');
      await env.sleep(5 * 60 * SECOND);
      status = await waitForStatus(handle, 'the backlog taken', (s) => s.delivery.backlog === 0);
      const retries = stubs.of('deliverHeldMessages');
      assert.deepEqual(
        retries.map((c) => c.args[1]),
        ['due', 'due'],
      );
      assertNear(retries[0].at, due[0]);
      assertNear(retries[1].at, due[1]);
      assert.equal(status.counts.delivered, 2);
      assert.equal(status.delivery.lastError, null);
      assert.equal(stubs.of('listNew').length, 1, 'retries between cycles do not start a cycle');
    });
  });

  test('a cycle collects new mail past a held message its target still answers for; an unreachable target stops it', async () => {
    for (const targetDown of [false, true]) {
      const stubs = new StubActivities();
      stubs.impl.loadSchedule = () => Promise.resolve(schedule({ backlog: 1 }));
      stubs.impl.deliverHeldMessages = () => Promise.resolve(heldSummary({ held: 1, targetDown, deliveryError: '451 try later' }));
      stubs.impl.listNew = () => Promise.resolve(listed(2));
      stubs.impl.downloadBatch = () => Promise.resolve(batch({ delivered: 2, remaining: 0 }));
      await withAccountWorkflow(env, stubs, async (handle) => {
        await waitForStatus(handle, 'the first cycle', (s) => s.counts.cycles === 1 && s.phase === 'waiting');
        assert.deepEqual(
          stubs.of('deliverHeldMessages').map((c) => c.args[1]),
          ['all'],
        );
        assert.equal(stubs.of('downloadBatch').length, targetDown ? 0 : 1, `targetDown: ${targetDown}`);
      });
    }
  });
});

function assertNear(actual: number, expected: number, toleranceMs = SECOND): void {
  assert.ok(Math.abs(actual - expected) <= toleranceMs, `${actual} ms is not within ${toleranceMs} ms of ${expected} ms`);
}
