import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { cycleCost, cyclesOf, formatCost, type CycleCost } from '../testkit/engine-cost';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

/**
 * What one cycle of an account costs in Temporal (invariant 12), counted from the real history on
 * the dev server: billable actions (activities, timers, upserts, markers, signals, child starts)
 * and workflow tasks. An idle cycle is one activity and one timer; a cycle with mail adds one
 * activity per download batch and one to finish; a search attribute is upserted only when its
 * value changed. Cycles here are started by Connect Now, whose signal is the caller's.
 */
describe('engine cost per cycle', () => {
  const sys = useTestSystem();

  /** Connect Now, then the cost of the cycle it started, once the workflow waits again. */
  async function cycleAfterConnectNow(accountId: string, what: string): Promise<CycleCost> {
    const before = cyclesOf((await sys.history(accountId)).events ?? []).length;
    await sys.ok('POST', `/api/external-accounts/${accountId}/connect-now`, undefined, 202);
    const cycle = await waitFor(
      `the ${what} cycle to end in a wait`,
      async () => cyclesOf((await sys.history(accountId)).events ?? [])[before],
    );
    const cost = cycleCost(cycle);
    console.log(`${what} cycle: ${formatCost(cost)}`);
    return cost;
  }

  async function waitingAfterFirstCycle(accountId: string): Promise<void> {
    await waitFor('the first cycle to end in a wait', async () => cyclesOf((await sys.history(accountId)).events ?? []).length >= 1);
  }

  test('an idle cycle costs one activity and one timer; a cycle with mail one activity more per batch and one to finish', async () => {
    const user = await addUser();
    const owner = await sys.localAccount('owner@cost.test');
    const external = await sys.pop3Account(owner, user, { deletePolicy: 'immediately' });
    await sys.waitForCycles(external.id, 1);
    await waitingAfterFirstCycle(external.id);

    // every cycle is measured before any budget is checked, so a run on another shape reports all of them
    const idle = await cycleAfterConnectNow(external.id, 'idle');
    await saveMessages(user, [buildMessage(), buildMessage(), buildMessage()]);
    const withMail = await cycleAfterConnectNow(external.id, 'with mail');
    assert.equal((await sys.status(external.id)).lastRun?.delivered, 3, 'the cycle collected the mail');
    const afterMail = await cycleAfterConnectNow(external.id, 'idle after mail');

    assert.ok(idle.actions <= 2, `idle: ${formatCost(idle)}`);
    assert.equal(idle.activities.length, 1, `idle: ${formatCost(idle)}`);
    assert.equal(idle.timers, 1);
    assert.ok(idle.workflowTasks <= 2, `idle: ${formatCost(idle)}`);
    const batches = withMail.activities.filter((a) => a === 'downloadBatch').length;
    assert.equal(batches, 1, 'three small messages are one batch');
    assert.ok(withMail.activities.length <= 2 + batches, `with mail: ${formatCost(withMail)}`);
    assert.equal(withMail.upserts, 0, 'the state stayed ok: nothing to upsert');
    assert.ok(withMail.actions <= 3 + batches, `with mail: ${formatCost(withMail)}`);
    assert.ok(withMail.workflowTasks <= 3 + batches, `with mail: ${formatCost(withMail)}`);
    assert.ok(afterMail.actions <= 2 && afterMail.workflowTasks <= 2, `idle after mail: ${formatCost(afterMail)}`);
  });

  test('a failing cycle and a disabled account cost what an idle cycle does', async () => {
    const user = await addUser();
    const owner = await sys.localAccount('other@cost.test');
    const failing = await sys.pop3Account(owner, { ...user, password: 'wrong' });
    await waitFor('the first failure', async () => ((await sys.status(failing.id)).counts.failedCycles >= 1 ? true : null));
    await waitingAfterFirstCycle(failing.id);
    const failed = await cycleAfterConnectNow(failing.id, 'failing');
    assert.equal((await sys.status(failing.id)).lastRun?.outcome, 'failed');
    const disabled = await sys.pop3Account(owner, user, { enabled: false });
    await waitFor('the disabled status', async () => ((await sys.status(disabled.id)).phase === 'disabled' ? true : null));
    await waitingAfterFirstCycle(disabled.id);
    const skipped = await cycleAfterConnectNow(disabled.id, 'disabled');

    assert.equal(failed.upserts, 0, 'still failing: nothing to upsert');
    assert.ok(failed.actions <= 2, `failing: ${formatCost(failed)}`);
    assert.ok(failed.workflowTasks <= 2, `failing: ${formatCost(failed)}`);
    assert.ok(skipped.actions <= 2, `disabled: ${formatCost(skipped)}`);
    assert.equal(skipped.upserts, 0);
    assert.ok(skipped.workflowTasks <= 2, `disabled: ${formatCost(skipped)}`);
  });
});
