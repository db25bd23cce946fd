import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowIdFor } from '../workflows/definitions';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('a long-running account workflow', () => {
  const sys = useTestSystem();

  test('continues as new when Temporal suggests it, carrying its status over, without re-delivering', async () => {
    const user = await addUser();
    await saveMessages(user, [buildMessage(), buildMessage()]);
    const owner = await sys.localAccount('owner@can.test');
    const external = await sys.pop3Account(owner, user);
    await sys.waitForCycles(external.id, 1);
    const handle = sys.client.workflow.getHandle(workflowIdFor(external.id));
    const firstRun = (await handle.describe()).runId;

    // The test server suggests continue-as-new after 200 events; a 1 s interval gets there quickly.
    await sys.db.pool.query('UPDATE external_accounts SET interval_seconds = 1 WHERE id = $1', [external.id]);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const secondRun = await waitFor(
      'a new run of the workflow',
      async () => {
        const d = await handle.describe();
        return d.runId !== firstRun && d.status.name === 'RUNNING' ? d.runId : null;
      },
      120_000,
      250,
    );
    const firstHistory = await sys.client.workflow.getHandle(workflowIdFor(external.id), firstRun).fetchHistory();
    const last = firstHistory.events?.[firstHistory.events.length - 1];
    assert.ok(last?.workflowExecutionContinuedAsNewEventAttributes, 'the first run ended by continuing as new');
    const cyclesInFirstRun = firstHistory.events?.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startCycle',
    ).length;

    const later = await waitFor('a cycle in the new run', async () => {
      const s = await sys.status(external.id);
      return s.counts.cycles > (cyclesInFirstRun ?? 0) ? s : null;
    });
    assert.equal(later.counts.delivered, 2, 'the carried-over counts');
    assert.equal((await handle.describe()).runId, secondRun);
    assert.equal((await sys.storedMessages(owner.id)).length, 2, 'nothing delivered twice');
  });
});
