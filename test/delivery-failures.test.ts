import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { deliveredCounts, domainWithTarget } from './support/delivered';
import { addUser, countOnServer, mailboxCount, readByPop3, saveMessages, setQuota, setQuotaFullTempfail } from '../testkit/dovecot';
import { sleep, testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { startSmtpSink } from './support/smtp-sink';
import { useTestSystem } from '../testkit/system';
import { startProxy } from '../testkit/tcp-proxy';

describe('delivery failures: nothing lost, nothing duplicated, nothing deleted before acceptance', () => {
  // held messages are offered again after 1 s, 2 s, 4 s … instead of 30 s, 60 s …
  const sys = useTestSystem({ workerEnv: { MAILPULL_DELIVERY_RETRY_SECONDS: '1' } });
  after(async () => {
    await setQuotaFullTempfail(false);
  });

  const account = (address: string) => sys.ok<{ id: string }>('POST', '/api/accounts', { address });
  const connectNow = (id: string) => sys.ok('POST', `/api/external-accounts/${id}/connect-now`, undefined, 202);

  test('SMTP answering 451, then 250: held and retried with backoff, kept on the remote until accepted, delivered once', async () => {
    const sink = await startSmtpSink({ data: () => ({ code: 451, message: '4.3.0 queue full, try again later' }) });
    try {
      const source = await addUser('src');
      const messages = [
        buildMessage({ headers: [['Return-Path', '<bounce@lists.remote.example>']] }),
        buildMessage({ headers: [['Return-Path', '<>']] }),
        ...Array.from({ length: 8 }, () => buildMessage({ body: textOfSize(3000) })),
      ];
      await saveMessages(source, messages);
      await domainWithTarget(sys, 'smtp-later.test', { kind: 'smtp', host: '127.0.0.1', port: sink.port, tlsMode: 'disabled' });
      const owner = await account('alice@smtp-later.test');
      const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately' });

      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.outcome, 'ok');
      assert.equal(first.lastRun?.held, 10);
      assert.equal(first.lastRun?.delivered, 0);
      assert.equal(first.delivery.backlog, 10);
      assert.match(first.delivery.lastError?.message ?? '', /alice@smtp-later\.test: 451 4\.3\.0 queue full/);
      assert.equal(await countOnServer(source), 10, 'nothing deleted while the target says later');

      // the held messages are offered again between cycles, the target still refusing
      await waitFor('two more attempts', () => sink.offered >= 30, 30_000);
      assert.equal(sink.received.length, 0);
      assert.equal(await countOnServer(source), 10);

      sink.script.data = undefined;
      await waitFor('the target to accept all ten', () => sink.received.length >= 10, 30_000);
      const drained = await waitFor('an empty backlog', async () => {
        const s = await sys.status(external.id);
        return s.delivery.backlog === 0 && s;
      });
      assert.equal(drained.delivery.lastError, null);
      await connectNow(external.id);
      const second = await sys.waitForCycles(external.id, 2);
      assert.equal(second.lastRun?.removed, 10, 'removed from the remote once accepted');
      assert.equal(await countOnServer(source), 0);
      await sleep(500);

      assert.equal(sink.received.length, 10, 'each message accepted once');
      deliveredCounts(
        sink.received.map((m) => m.raw),
        messages,
      ).forEach((n, i) => assert.equal(n, 1, `message ${i}: ${n} copies`));
      assert.ok(
        sink.received.every((m) => messages.some((o) => o.equals(m.raw))),
        'the bytes are unchanged, no header added',
      );
      assert.ok(sink.received.every((m) => m.to.length === 1 && m.to[0] === 'alice@smtp-later.test'));
      const fromOf = (original: Buffer) => sink.received.find((m) => m.raw.equals(original))?.from;
      assert.equal(fromOf(messages[0]), 'bounce@lists.remote.example', 'MAIL FROM is the Return-Path');
      assert.equal(fromOf(messages[1]), '', 'a Return-Path of <> stays the null sender');
      assert.equal(fromOf(messages[2]), 'sender@remote.example', 'else the From address');
    } finally {
      await sink.close();
    }
  });

  test('550 for one of two recipients: the other gets it once, the message waits in quarantine, a retry from the API delivers it once', async () => {
    const refused = new Set(['bob@smtp-refuse.test']);
    const sink = await startSmtpSink({
      rcpt: (address) => (refused.has(address) ? { code: 550, message: `5.1.1 <${address}>: mailbox unavailable` } : null),
    });
    try {
      const source = await addUser('src');
      const message = buildMessage({ to: 'alice@smtp-refuse.test, bob@smtp-refuse.test', subject: 'for two' });
      await saveMessages(source, [message]);
      await domainWithTarget(sys, 'smtp-refuse.test', { kind: 'smtp', host: '127.0.0.1', port: sink.port, tlsMode: 'disabled' });
      const alice = await account('alice@smtp-refuse.test');
      await account('bob@smtp-refuse.test');
      await account('carol@smtp-refuse.test');
      const external = await sys.pop3Account(alice, source, { deletePolicy: 'immediately', mimeRecipients: { enabled: true } });

      const first = await sys.waitForCycles(external.id, 1);
      assert.equal(first.lastRun?.quarantined, 1);
      assert.equal(first.delivery.quarantined, 1);
      assert.equal(first.delivery.backlog, 0);
      assert.match(first.delivery.lastError?.message ?? '', /bob@smtp-refuse\.test: 550 5\.1\.1/);
      assert.deepEqual(
        sink.received.map((m) => m.to),
        [['alice@smtp-refuse.test']],
      );
      assert.equal(await countOnServer(source), 0, 'quarantine counts as kept: the delete policy proceeds');

      const list = await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`);
      assert.equal(list.total, 1);
      const held = list.messages[0];
      assert.equal(held.state, 'quarantined');
      assert.equal(held.subject, 'for two');
      assert.match(held.reason, /550 5\.1\.1 <bob@smtp-refuse\.test>: mailbox unavailable/);
      assert.deepEqual(
        held.recipients.map((r: { address: string; state: string }) => [r.address, r.state]),
        [['bob@smtp-refuse.test', 'rejected']],
      );
      const raw = await sys.api('GET', `/api/quarantine/${held.id}/raw`);
      assert.equal(raw.status, 200);
      assert.equal(raw.headers.get('content-type'), 'message/rfc822');
      assert.ok(raw.raw.equals(message));

      refused.clear();
      const retried = await sys.api('POST', `/api/quarantine/${held.id}/retry`);
      assert.equal(retried.status, 202);
      assert.equal(retried.body.state, 'pending');
      await waitFor('the retry to reach bob', () => sink.received.length >= 2, 30_000);
      const after = await waitFor('an empty quarantine', async () => {
        const s = await sys.status(external.id);
        return s.delivery.quarantined === 0 && s.delivery.backlog === 0 && s;
      });
      assert.equal(after.delivery.lastError, null);
      assert.equal((await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`)).total, 0);
      assert.equal((await sys.api('GET', `/api/quarantine/${held.id}`)).status, 404);
      await connectNow(external.id);
      await sys.waitForCycles(external.id, after.counts.cycles + 1);
      assert.deepEqual(
        sink.received.map((m) => m.to),
        [['alice@smtp-refuse.test'], ['bob@smtp-refuse.test']],
        'alice once, bob once',
      );
      assert.ok(sink.received.every((m) => m.raw.equals(message)));

      // discard: refused for good, and the admin decides it is not wanted
      refused.add('carol@smtp-refuse.test');
      await saveMessages(source, [buildMessage({ to: 'carol@smtp-refuse.test', subject: 'unwanted' })]);
      await connectNow(external.id);
      const third = await waitFor('the second quarantined message', async () => {
        const l = await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`);
        return l.total === 1 && l.messages[0];
      });
      assert.equal(third.subject, 'unwanted');
      assert.equal((await sys.api('DELETE', `/api/quarantine/${third.id}`)).status, 204);
      assert.equal((await sys.api('DELETE', `/api/quarantine/${third.id}`)).status, 404);
      assert.equal((await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`)).total, 0);

      const badId = await sys.api('GET', '/api/quarantine/abc');
      assert.equal(badId.status, 400);
      assert.equal(badId.body.field, 'id');
      const badState = await sys.api('GET', '/api/quarantine?state=lost');
      assert.equal(badState.status, 400);
      assert.equal(badState.body.field, 'state');
      assert.equal((await sys.api('POST', '/api/quarantine/999999999/retry')).status, 404);
    } finally {
      await sink.close();
    }
  });

  test('the LMTP target stops mid-batch and comes back: every message delivered exactly once', async () => {
    const proxy = await startProxy(testEnv.lmtpPort(), 150);
    try {
      const source = await addUser('src');
      const destination = await addUser('dst');
      const messages = Array.from({ length: 50 }, (_, i) => buildMessage({ subject: `stop ${i}`, body: textOfSize(2000) }));
      await saveMessages(source, messages);
      await domainWithTarget(sys, 'lmtp-stop.test', {
        kind: 'lmtp',
        host: '127.0.0.1',
        port: proxy.port,
        tlsMode: 'disabled',
        maxConnections: 3,
      });
      const owner = await account(`${destination.name}@lmtp-stop.test`);
      const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately' });

      await waitFor('the first deliveries', async () => (await mailboxCount(destination)) >= 8, 60_000, 50);
      proxy.delayMs = 0;
      await proxy.stop(1000);
      const atStop = await mailboxCount(destination);
      assert.ok(atStop < 50, `stopped mid-batch (${atStop} delivered)`);
      const down = await waitFor('the cycle to end with messages held', async () => {
        const s = await sys.status(external.id);
        return s.counts.cycles >= 1 && s;
      });
      assert.ok(down.delivery.backlog > 0, 'what the target did not take is held');
      assert.ok(down.delivery.lastError, 'with the reason');
      await sleep(3000); // retries meet a closed port
      assert.equal(await mailboxCount(destination), atStop);
      assert.equal(await countOnServer(source), 50 - atStop, 'only what was delivered is gone from the remote');

      await proxy.resume();
      await waitFor('the backlog to drain', async () => (await sys.status(external.id)).delivery.backlog === 0, 60_000);
      await connectNow(external.id);
      await waitFor('every message', async () => (await mailboxCount(destination)) >= 50 && (await countOnServer(source)) === 0, 60_000);
      await sleep(1000);
      const delivered = await readByPop3(destination);
      assert.equal(delivered.length, 50);
      deliveredCounts(delivered, messages).forEach((n, i) => assert.equal(n, 1, `message ${i}: ${n} copies`));
    } finally {
      await proxy.close();
    }
  });

  test('a full mailbox: 452 (quota_full_tempfail) is retried until there is room, 552 goes to quarantine; nothing lost', async () => {
    await setQuotaFullTempfail(true);
    const source = await addUser('src');
    const destination = await addUser('dst');
    await setQuota(destination, 24);
    const messages = Array.from({ length: 10 }, (_, i) => buildMessage({ subject: `quota ${i}`, body: textOfSize(5000) }));
    await saveMessages(source, messages);
    await domainWithTarget(sys, 'quota.test', {
      kind: 'lmtp',
      host: '127.0.0.1',
      port: testEnv.lmtpPort(),
      tlsMode: 'disabled',
      maxConnections: 1,
    });
    const owner = await account(`${destination.name}@quota.test`);
    const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately' });

    const first = await sys.waitForCycles(external.id, 1);
    const fitted = await mailboxCount(destination);
    assert.ok(fitted > 0 && fitted < 10, `${fitted} fit in the quota`);
    assert.equal(first.lastRun?.delivered, fitted);
    assert.equal(first.lastRun?.held, 10 - fitted);
    assert.match(first.delivery.lastError?.message ?? '', /452 4\.2\.2 .*Quota exceeded/);
    assert.equal(await countOnServer(source), 10 - fitted, 'the held ones stay on the remote');

    await setQuota(destination, 10_000);
    await waitFor('the held messages to be delivered', async () => (await sys.status(external.id)).delivery.backlog === 0, 60_000);
    assert.equal(await mailboxCount(destination), 10);
    await connectNow(external.id);
    await sys.waitForCycles(external.id, 2);
    assert.equal(await countOnServer(source), 0);

    await setQuotaFullTempfail(false);
    await setQuota(destination, 1);
    const late = buildMessage({ subject: 'no room', body: textOfSize(5000) });
    await saveMessages(source, [late]);
    await connectNow(external.id);
    const third = await sys.waitForCycles(external.id, 3);
    assert.equal(third.lastRun?.quarantined, 1);
    const list = await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`);
    assert.equal(list.total, 1);
    assert.match(list.messages[0].reason, /552 5\.2\.2 .*Quota exceeded/);
    assert.ok((await sys.api('GET', `/api/quarantine/${list.messages[0].id}/raw`)).raw.equals(late), 'kept whole in quarantine');
    assert.equal(await countOnServer(source), 0);
    assert.equal(await mailboxCount(destination), 10);
    const delivered = await readByPop3(destination);
    deliveredCounts(delivered, messages).forEach((n, i) => assert.equal(n, 1, `message ${i}: ${n} copies`));

    // The quarantined message exists nowhere else now: deleting its account must not lose it unasked.
    const refused = await sys.api('DELETE', `/api/external-accounts/${external.id}`);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'quarantine_not_empty');
    assert.match(refused.body.message, /1 quarantined message/);
    assert.equal((await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`)).total, 1, 'still in quarantine');
    assert.equal(
      (await sys.api('DELETE', `/api/external-accounts/${external.id}?discardQuarantine=maybe`)).body.field,
      'discardQuarantine',
    );
    assert.equal((await sys.api('DELETE', `/api/external-accounts/${external.id}?discardQuarantine=true`)).status, 204);
    assert.equal((await sys.api('GET', `/api/quarantine/${list.messages[0].id}`)).status, 404);
  });
});
