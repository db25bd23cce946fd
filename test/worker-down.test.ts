import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, saveMessages } from '../testkit/dovecot';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('no worker running', () => {
  const sys = useTestSystem({ worker: false });

  test('the status says no worker answered (503, promptly); the account collects once a worker starts', async () => {
    const user = await addUser();
    await saveMessages(user, [buildMessage(), buildMessage()]);
    const owner = await sys.localAccount('owner@idle.test');
    const external = await sys.pop3Account(owner, user);

    const started = Date.now();
    const res = await sys.api('GET', `/api/external-accounts/${external.id}/status`);
    assert.equal(res.status, 503);
    assert.equal(res.body.error, 'status_unavailable');
    assert.match(res.body.message, /no worker answered/);
    assert.ok(Date.now() - started < 15_000, 'answered within the deadline');

    await sys.startWorker();
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastRun?.delivered, 2);
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
  });
});
