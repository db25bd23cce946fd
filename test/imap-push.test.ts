import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, dropImapSessions, logLinesFor, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

const imapLogins = async (user: DovecotUser): Promise<number> =>
  (await logLinesFor(user)).filter((l) => l.includes('imap-login: Info: Login:')).length;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

describe('IMAP push (IDLE)', () => {
  const sys = useTestSystem();

  test('new mail arrives within seconds while the account idles, and again after the server kills the IDLE connection', async () => {
    const user = await addUser('push');
    const owner = await sys.localAccount('push@imap.test');
    // The schedule alone would not run again for an hour: only IDLE can bring these messages in.
    const ext = await sys.imapAccount(owner, user, { push: true, intervalMinutes: 60 });
    await sys.waitForCycles(ext.id, 1);
    const listening = async () => {
      await waitFor('push to be listening', async () => (await sys.status(ext.id)).push === 'listening', 30_000);
    };
    await listening();

    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const message = buildMessage({ subject: `pushed ${i}` });
      const sent = Date.now();
      await saveMessages(user, [message]);
      await waitFor(
        `pushed message ${i} in the store`,
        async () => (await sys.storedMessages(owner.id)).some((m) => m.equals(message)),
        30_000,
        20,
      );
      latencies.push(Date.now() - sent);
      await listening();
    }
    latencies.sort((a, b) => a - b);
    console.log(`IDLE delivery latency over 20 messages: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms`);
    const status = await sys.status(ext.id);
    assert.equal(status.counts.delivered, 20);
    assert.ok(status.lastPushAt, 'the status shows when push last woke the account');

    // "listening" is set when the watch is scheduled; wait until its connection is really open.
    await waitFor('an IDLE session to drop', async () => (await dropImapSessions(user)) > 0, 30_000, 100);
    const loginsAtDrop = await imapLogins(user);
    await waitFor('the watcher to reconnect', async () => (await imapLogins(user)) > loginsAtDrop, 60_000, 100);
    const afterKick = buildMessage({ subject: 'after the kick' });
    await saveMessages(user, [afterKick]);
    await waitFor(
      'the message after the kick in the store',
      async () => (await sys.storedMessages(owner.id)).some((m) => m.equals(afterKick)),
      60_000,
    );
    await listening();
    assert.equal((await sys.storedMessages(owner.id)).length, 21);
  });

  test('push off: the account waits for its schedule, and the status says so', async () => {
    const user = await addUser('nopush');
    const owner = await sys.localAccount('nopush@imap.test');
    const ext = await sys.imapAccount(owner, user, { intervalMinutes: 60 });
    const status = await sys.waitForCycles(ext.id, 1);
    assert.equal(status.push, 'off');
    await saveMessages(user, [buildMessage()]);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal((await sys.storedMessages(owner.id)).length, 0, 'nothing arrives without push before the next interval');
    assert.equal((await sys.status(ext.id)).counts.cycles, 1);
  });
});
