import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { addUser, mailboxCount } from '../testkit/dovecot';
import { writeMaildir } from '../testkit/maildir';
import { useTestSystem } from '../testkit/system';

const IMAP_MESSAGES = 20_000;
const POP3_MESSAGES = 100_000;

const small = (i: number): Buffer =>
  Buffer.from(
    `From: bulk@remote.test\r\nSubject: bulk ${i}\r\nMessage-ID: <bulk${i}@large.test>\r\n\r\nmessage number ${i}\r\n${'x'.repeat(1200)}\r\n`,
  );

/** The worker's peak resident memory so far (VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('VmHWM:')) ?? '';
  return Number(line.replace(/[^0-9]/g, '')) / 1024;
}

describe('large mailboxes', () => {
  const sys = useTestSystem();

  test(`an IMAP folder with ${IMAP_MESSAGES} undelivered messages is collected completely, each message once`, async () => {
    const user = await addUser('bigimap');
    await writeMaildir(user, IMAP_MESSAGES, small);
    const owner = await sys.localAccount('owner@large.test');
    const started = Date.now();
    const external = await sys.imapAccount(owner, user, { deletePolicy: 'immediately' });
    const status = await sys.waitForCycles(external.id, 1, 900_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(`# IMAP ${IMAP_MESSAGES} messages collected in ${seconds.toFixed(1)} s (${(IMAP_MESSAGES / seconds).toFixed(0)} msg/s)`);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    assert.equal(status.lastRun?.delivered, IMAP_MESSAGES);
    const { rows } = await sys.db.pool.query<{ n: string; distinct: string }>(
      'SELECT count(*) AS n, count(DISTINCT message_id) AS distinct FROM messages WHERE account_id = $1',
      [owner.id],
    );
    assert.equal(Number(rows[0].n), IMAP_MESSAGES);
    assert.equal(Number(rows[0].distinct), IMAP_MESSAGES);
    assert.equal(await mailboxCount(user), 0, 'every delivered message was removed (UID sets past the command-line limit)');
  });

  test(`a POP3 mailbox of ${POP3_MESSAGES} messages is listed with bounded worker memory`, async () => {
    const user = await addUser('bigpop');
    await writeMaildir(user, POP3_MESSAGES, small);
    const owner = await sys.localAccount('lister@large.test');
    const before = await peakRssMb(sys.worker!.child.pid!);
    const started = Date.now();
    // Every message is over the account's own size limit: this cycle lists, and downloads nothing.
    const external = await sys.pop3Account(owner, user, { maxMessageBytes: 1024 });
    const status = await sys.waitForCycles(external.id, 1, 900_000);
    const seconds = (Date.now() - started) / 1000;
    const peak = await peakRssMb(sys.worker!.child.pid!);
    console.log(
      `# POP3 ${POP3_MESSAGES} messages listed in ${seconds.toFixed(1)} s; worker peak RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB after`,
    );
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    assert.equal(status.lastRun?.outcome, 'ok', JSON.stringify(status.lastRun));
    assert.equal(status.lastRun?.onServer, POP3_MESSAGES, sys.worker!.output().slice(-3000));
    assert.equal(status.lastRun?.newOnServer, POP3_MESSAGES);
    assert.equal(status.lastRun?.tooLarge, POP3_MESSAGES);
    assert.equal(status.lastRun?.delivered, 0);
    assert.ok(peak < 512, `worker peak RSS ${peak.toFixed(0)} MB stays under 512 MB`);
  });
});
