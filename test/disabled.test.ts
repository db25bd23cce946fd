import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, logLinesFor, saveMessages } from '../testkit/dovecot';
import { sleep, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('disabled means disabled', () => {
  const sys = useTestSystem();

  const cases = [
    { what: 'external account', reason: 'external account disabled' },
    { what: 'owner account', reason: 'owner account disabled' },
    { what: 'owner domain', reason: 'owner domain disabled' },
  ] as const;

  for (const [i, c] of cases.entries()) {
    test(`a disabled ${c.what} downloads nothing and deletes nothing, and collects once enabled again`, async () => {
      const user = await addUser();
      await saveMessages(user, [buildMessage(), buildMessage(), buildMessage()]);
      const owner = await sys.localAccount(`owner@d${i}.test`);
      const domainId = (await sys.ok('GET', `/api/accounts/${owner.id}`)).domainId;
      if (c.what === 'owner account') await sys.ok('PATCH', `/api/accounts/${owner.id}`, { enabled: false });
      if (c.what === 'owner domain') await sys.ok('PATCH', `/api/domains/${domainId}`, { enabled: false });
      const external = await sys.pop3Account(owner, user, {
        deletePolicy: 'immediately',
        enabled: c.what !== 'external account',
      });

      const status = await waitFor('the disabled status', async () => {
        const s = await sys.status(external.id);
        return s.phase === 'disabled' ? s : null;
      });
      assert.equal(status.disabledReason, c.reason);
      await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
      await sleep(1500);
      assert.equal((await sys.status(external.id)).phase, 'disabled');
      assert.equal((await sys.storedMessages(owner.id)).length, 0, 'nothing downloaded');
      assert.equal(await countOnServer(user), 3, 'nothing deleted');
      assert.deepEqual(
        (await logLinesFor(user)).filter((l) => l.includes('Login')),
        [],
        'no session was even opened',
      );

      if (c.what === 'external account') await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { enabled: true });
      if (c.what === 'owner account') await sys.ok('PATCH', `/api/accounts/${owner.id}`, { enabled: true });
      if (c.what === 'owner domain') await sys.ok('PATCH', `/api/domains/${domainId}`, { enabled: true });
      const enabled = await sys.waitForCycles(external.id, 1);
      assert.equal(enabled.lastRun?.delivered, 3);
      assert.equal((await sys.storedMessages(owner.id)).length, 3);
      assert.equal(await countOnServer(user), 0);
    });
  }
});
