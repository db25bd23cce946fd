import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, logLinesFor, saveMessages } from '../testkit/dovecot';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('APOP and POP3 options', () => {
  const sys = useTestSystem();

  test('APOP logs in with the digest (Dovecot logs method=APOP) and collects', async () => {
    const user = await addUser('apop');
    const message = buildMessage({
      headers: [
        ['Received', 'from relay by mx.remote.example; Tue, 3 Nov 2026 10:00:00 +0000'],
        ['Received', 'from origin by relay; Tue, 3 Nov 2026 09:58:00 +0000'],
      ],
    });
    await saveMessages(user, [message]);
    const owner = await sys.localAccount('apop@pop3.test');
    const ext = await sys.pop3Account(owner, user, { authMethod: 'apop', receiveTime: 'receivedHeader' });
    const status = await sys.waitForCycles(ext.id, 1);
    assert.equal(status.lastError, null);
    assert.equal(status.lastRun?.delivered, 1);
    const [copy] = await sys.storedCopies(owner.id);
    assert.ok(copy.raw.equals(message));
    assert.deepEqual(copy.internalDate, new Date('2026-11-03T10:00:00Z'), 'receive time from the newest Received header');
    const logins = (await logLinesFor(user)).filter((l) => /pop3-login: Info: Login:/.test(l));
    assert.ok(logins.length > 0 && logins.every((l) => l.includes('method=APOP')), logins.join('\n'));
  });

  test('a wrong APOP secret gives the authentication-failed status; APOP on IMAP is refused by the API', async () => {
    const user = await addUser('apopbad');
    await saveMessages(user, [buildMessage()]);
    const owner = await sys.localAccount('apopbad@pop3.test');
    const ext = await sys.pop3Account(owner, user, { authMethod: 'apop', password: `${user.password}x` });
    const status = await sys.waitForCycles(ext.id, 1);
    assert.equal(status.lastRun?.outcome, 'failed');
    assert.equal(status.lastError?.kind, 'auth');
    assert.equal((await sys.storedMessages(owner.id)).length, 0);

    const imap = await sys.api('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'x',
      protocol: 'imap',
      host: '127.0.0.1',
      username: 'u',
      password: 'p',
      authMethod: 'apop',
    });
    assert.equal(imap.status, 400);
    assert.equal(imap.body.field, 'authMethod');
    const pop3Push = await sys.api('PATCH', `/api/external-accounts/${ext.id}`, { push: true });
    assert.equal(pop3Push.status, 400);
    assert.equal(pop3Push.body.field, 'push');
  });
});
