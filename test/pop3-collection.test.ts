import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { mixedCorpus } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('POP3 collection end to end (Dovecot, Temporal, Postgres)', () => {
  const sys = useTestSystem();

  test('50 mixed messages arrive byte-identical, the next cycle downloads nothing, "never" leaves all on the server', async () => {
    const user = await addUser();
    const corpus = mixedCorpus();
    await saveMessages(user, corpus);
    const owner = await sys.localAccount('owner@collect.test');
    const external = await sys.pop3Account(owner, user);

    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastError, null);
    assert.equal(first.lastRun?.outcome, 'ok');
    assert.equal(first.lastRun?.delivered, 50);
    assert.equal(first.lastRun?.newOnServer, 50);
    assert.equal(
      first.lastRun?.downloadedBytes,
      corpus.reduce((sum, m) => sum + m.length, 0),
    );
    assert.equal(first.tls, 'starttls');

    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 50);
    stored.forEach((raw, i) => assert.ok(raw.equals(corpus[i]), `message ${i} differs from what Dovecot serves`));

    const listed = await sys.ok('GET', `/api/accounts/${owner.id}/messages?limit=100`);
    assert.equal(listed.total, 50);
    const big = listed.messages.find((m: { subject: string }) => m.subject === 'ten megabytes');
    assert.ok(big, 'the 10 MB message is listed with its subject');
    const raw = await sys.api('GET', `/api/accounts/${owner.id}/messages/${big.id}/raw`);
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'message/rfc822');
    assert.ok(raw.raw.equals(corpus[0]));

    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(external.id, 2);
    assert.equal(second.lastRun?.delivered, 0);
    assert.equal(second.lastRun?.onServer, 50);
    assert.equal(second.lastRun?.newOnServer, 0);
    assert.equal((await sys.storedMessages(owner.id)).length, 50);
    assert.equal(await countOnServer(user), 50);

    const history = await sys.historyText(external.id);
    assert.ok(history.includes(external.id));
    assert.ok(!history.includes(user.password), 'no password in the workflow history');
    assert.ok(!sys.worker?.output().includes(user.password), 'no password in the worker log');
  });
});
