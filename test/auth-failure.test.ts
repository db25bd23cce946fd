import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowIdFor } from '../workflows/definitions';
import { addUser, logLinesFor, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { sleep } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

const failedLogins = async (user: DovecotUser): Promise<Date[]> =>
  (await logLinesFor(user)).filter((l) => l.includes('Password mismatch')).map((l) => new Date(l.slice(0, 26).replace(' ', 'T') + 'Z'));

describe('a wrong password', () => {
  const sys = useTestSystem();

  test('shows "authentication failed", keeps the workflow running, retries only at the next interval', async () => {
    const user = await addUser();
    await saveMessages(user, [buildMessage()]);
    const owner = await sys.localAccount('owner@auth.test');
    const external = await sys.pop3Account(owner, user, { password: 'not-the-password' });

    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.outcome, 'failed');
    assert.equal(first.lastError?.kind, 'auth');
    assert.match(first.lastError?.message ?? '', /authentication failed/i);
    await sleep(3000);
    assert.equal((await failedLogins(user)).length, 1, 'one login attempt, no retry loop');
    const description = await sys.client.workflow.getHandle(workflowIdFor(external.id)).describe();
    assert.equal(description.status.name, 'RUNNING');

    // Shorten the interval (as an admin could not: a minute is the API's minimum) and change the
    // account, which runs a cycle at once; the one after it must come from the interval alone.
    await sys.db.pool.query('UPDATE external_accounts SET interval_seconds = 3 WHERE id = $1', [external.id]);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { name: 'renamed' });
    const third = await sys.waitForCycles(external.id, 3, 30_000);
    assert.equal(third.lastError?.kind, 'auth');
    const attempts = await failedLogins(user);
    assert.equal(attempts.length, 3, 'one login attempt per cycle');
    assert.ok(attempts[2].getTime() - attempts[1].getTime() >= 2500, 'the next attempt waited for the interval');

    const history = await sys.history(external.id);
    const retried = history.events?.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    assert.deepEqual(retried, [], 'authentication failures are not retried');

    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { password: user.password });
    const fixed = await sys.waitForCycles(external.id, 4, 30_000);
    assert.equal(fixed.lastError, null);
    assert.equal(fixed.lastRun?.delivered, 1);
    for (const secret of ['not-the-password', user.password]) {
      assert.ok(!sys.worker?.output().includes(secret), 'no password in the worker log');
      assert.ok(!(await sys.historyText(external.id)).includes(secret), 'no password in the workflow history');
    }
  });

  test('five failed intervals in a row: exactly five logins, the wait doubling and shown; Connect Now ends the backoff', async () => {
    const user = await addUser();
    const owner = await sys.localAccount('owner@backoff.test');
    const external = await sys.pop3Account(owner, user, { password: 'wrong-again' });
    await sys.waitForCycles(external.id, 1);
    // A one-second interval (below the API's minimum), taken up at the next configuration change.
    await sys.db.pool.query('UPDATE external_accounts SET interval_seconds = 1 WHERE id = $1', [external.id]);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { name: 'backoff' });
    const fifth = await sys.waitForCycles(external.id, 6, 60_000);
    assert.deepEqual(fifth.authBackoff, { failures: 5, delaySeconds: 16 }, 'waits of 1, 2, 4, 8, then 16 s');
    assert.ok(new Date(fifth.nextRunAt ?? 0).getTime() - Date.now() > 10_000, 'the next run is the backoff away');
    const attempts = (await failedLogins(user)).slice(1);
    assert.equal(attempts.length, 5, 'exactly five login attempts');
    const gaps = attempts.slice(1).map((t, i) => t.getTime() - attempts[i].getTime());
    for (const [i, gap] of gaps.entries()) assert.ok(gap >= 2 ** i * 1000 - 300, `gap ${i + 1} of ${gap} ms doubled`);
    await sleep(5000);
    assert.equal((await failedLogins(user)).length, 6, 'no login during the backoff');

    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const now = await sys.waitForCycles(external.id, 7, 10_000);
    assert.deepEqual(now.authBackoff, { failures: 1, delaySeconds: 1 }, 'Connect Now started counting again');
    assert.equal((await failedLogins(user)).length, 7);
  });
});
