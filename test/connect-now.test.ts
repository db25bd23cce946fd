import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, saveMessages } from '../testkit/dovecot';
import { sleep, testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';
import { startProxy, type TcpProxy } from '../testkit/tcp-proxy';

describe('Connect Now', () => {
  const sys = useTestSystem();
  let proxy: TcpProxy;
  before(async () => {
    proxy = await startProxy(testEnv.pop3Port(), 15);
  });
  after(async () => {
    await proxy.close();
  });

  test('20 presses during a slow cycle: never two sessions at once, exactly one extra cycle', async () => {
    const user = await addUser();
    await saveMessages(
      user,
      Array.from({ length: 20 }, () => buildMessage({ body: textOfSize(100_000) })),
    );
    const owner = await sys.localAccount('owner@press.test');
    const external = await sys.pop3Account(owner, user, { port: proxy.port });

    await waitFor('the first cycle to be downloading', async () => (await sys.status(external.id)).phase === 'downloading');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => sys.api('POST', `/api/external-accounts/${external.id}/connect-now`)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(20).fill(202),
    );
    const queued = await sys.status(external.id);
    assert.equal(queued.rerunQueued, true);
    assert.equal(queued.counts.cycles, 0, 'the presses arrived during the first cycle');

    const done = await sys.waitForCycles(external.id, 2);
    assert.equal(done.lastRun?.delivered, 0, 'the extra cycle found nothing new');
    await sleep(3000);
    const settled = await sys.status(external.id);
    assert.equal(settled.counts.cycles, 2, 'exactly one extra cycle');
    assert.equal(settled.phase, 'waiting');
    assert.equal(proxy.maxActive, 1, 'never two POP3 sessions at once');
    assert.equal((await sys.storedMessages(owner.id)).length, 20);

    const history = await sys.history(external.id);
    const listings = history.events?.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startCycle');
    assert.equal(listings?.length, 2, 'two cycles, each one listing activity, in the workflow history');
  });
});
