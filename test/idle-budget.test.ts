import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowIdFor } from '../workflows/definitions';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

/** Started: 2, only scheduled: 1 (temporal.api.enums.v1.PendingActivityState). */
const STARTED = 2;

describe('the IMAP IDLE budget', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_MAX_IDLE_WATCHES: '1' } });

  const watchState = async (externalId: string): Promise<number | null> => {
    const { raw } = await sys.client.workflow.getHandle(workflowIdFor(externalId)).describe();
    const watch = raw.pendingActivities?.find((p) => p.activityType?.name === 'waitForNewMail');
    return watch ? Number(watch.state) : null;
  };

  test('with a budget of one watch, the first push account is woken by IDLE and the second is collected by polling at its interval', async () => {
    const owner = await sys.localAccount('owner@idle-budget.test');
    const first = await addUser('idlefirst');
    const second = await addUser('idlesecond');
    // An hour's interval: only IDLE can bring the first account's mail in during the test.
    const pushed = await sys.imapAccount(owner, first, { push: true, intervalMinutes: 60 });
    await sys.waitForCycles(pushed.id, 1);
    await waitFor('the first account to hold the only IDLE slot', async () => (await watchState(pushed.id)) === STARTED, 30_000);

    const polled = await sys.imapAccount(owner, second, { push: true, intervalMinutes: 60 });
    await sys.waitForCycles(polled.id, 1);
    await sys.db.pool.query('UPDATE external_accounts SET interval_seconds = 3 WHERE id = $1', [polled.id]);
    await sys.ok('POST', `/api/external-accounts/${polled.id}/connect-now`, undefined, 202);
    const cyclesBefore = (await sys.waitForCycles(polled.id, 2)).counts.cycles;

    const forPolled = buildMessage({ subject: 'collected by polling' });
    await saveMessages(second, [forPolled]);
    await waitFor(
      'the polled account to store its message',
      async () => (await sys.storedMessages(owner.id)).some((m) => m.equals(forPolled)),
      30_000,
    );
    const polledStatus = await sys.waitForCycles(polled.id, cyclesBefore + 2, 30_000);
    assert.equal(polledStatus.lastPushAt, null, 'the second account never got an IDLE watch: its mail came by polling');
    assert.notEqual(await watchState(polled.id), STARTED, "the second account's watch waits for the budget");
    assert.equal(await watchState(pushed.id), STARTED, 'the first account still holds its watch');

    const forPushed = buildMessage({ subject: 'woken by IDLE' });
    await saveMessages(first, [forPushed]);
    await waitFor(
      'the pushed account to store its message',
      async () => (await sys.storedMessages(owner.id)).some((m) => m.equals(forPushed)),
      30_000,
    );
    assert.ok((await sys.status(pushed.id)).lastPushAt, 'IDLE woke the first account');
  });
});
