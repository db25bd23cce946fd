import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from '../testkit/env';
import { useTestSystem } from '../testkit/system';
import { unusedPort } from '../testkit/ports';

describe('a dead mail server', () => {
  const sys = useTestSystem();

  test('the status shows the retries and then the network error; the worker keeps running', async () => {
    const owner = await sys.localAccount('owner@dead.test');
    const external = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'dead',
      host: '127.0.0.1',
      port: await unusedPort(),
      username: 'u',
      password: 'p',
    });

    const retrying = await waitFor('the status to show a retry', async () => (await sys.status(external.id)).retrying);
    assert.equal(retrying.activity, 'startCycle');
    assert.ok(retrying.attempt >= 2);
    assert.equal(retrying.lastError.kind, 'network');
    assert.match(retrying.lastError.message, /ECONNREFUSED/);

    // 5 attempts with backoff 2 s, 4 s, 8 s, 16 s, then the cycle fails until the next interval
    const failed = await sys.waitForCycles(external.id, 1, 90_000);
    assert.equal(failed.lastRun?.outcome, 'failed');
    assert.equal(failed.lastError?.kind, 'network');
    assert.equal(failed.phase, 'waiting');
    assert.equal(failed.retrying, null);
    assert.equal(sys.worker?.child.exitCode, null, 'the worker is still running');
  });
});
