import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addUser, countOnServer, type DovecotUser } from './support/dovecot';
import { writeMaildir } from './support/maildir';
import { useTestSystem } from './support/system';
import { waitFor } from './support/env';

const ACCOUNTS = 100;
const PER_ACCOUNT = 3;

const message = (account: number, i: number): Buffer =>
  Buffer.from(
    `From: sender@remote.test\r\nTo: owner@many.test\r\nSubject: account ${account} message ${i}\r\nMessage-ID: <a${account}m${i}@many.test>\r\n\r\nbody ${account}/${i}\r\n`,
  );

describe('many accounts at once on one worker', () => {
  const sys = useTestSystem();

  // minutes on a loaded 2-core machine: longer than the suite's 5-minute default
  test(
    `${ACCOUNTS} external accounts (POP3 and IMAP) created together all finish their first cycle, each message stored once`,
    { timeout: 900_000 },
    async () => {
      const owner = await sys.localAccount('owner@many.test');
      const users: DovecotUser[] = [];
      for (let a = 0; a < ACCOUNTS; a++) {
        const user = await addUser('many');
        await writeMaildir(user, PER_ACCOUNT, (i) => message(a, i));
        users.push(user);
      }
      const started = Date.now();
      const externals = await Promise.all(
        users.map((user, a) =>
          a % 2 === 0
            ? sys.pop3Account(owner, user, { deletePolicy: 'immediately' })
            : sys.imapAccount(owner, user, { deletePolicy: 'immediately' }),
        ),
      );
      const created = Date.now();
      const statuses = await Promise.all(externals.map((e) => sys.waitForCycles(e.id, 1, 600_000)));
      const finished = Date.now();
      console.log(
        `# ${ACCOUNTS} accounts: created through the API in ${created - started} ms; all first cycles done ${finished - started} ms after the first create`,
      );
      for (const [a, status] of statuses.entries()) {
        assert.equal(status.lastError, null, `account ${a}: ${JSON.stringify(status.lastError)}`);
        assert.equal(status.lastRun?.outcome, 'ok');
        assert.equal(status.lastRun?.delivered, PER_ACCOUNT, `account ${a} delivered its messages in its first cycle`);
      }
      const { rows } = await sys.db.pool.query<{ subject: string; n: string }>(
        'SELECT subject, count(*) AS n FROM messages WHERE account_id = $1 GROUP BY subject',
        [owner.id],
      );
      assert.equal(rows.length, ACCOUNTS * PER_ACCOUNT, 'every message arrived');
      assert.ok(
        rows.every((r) => r.n === '1'),
        'no message arrived twice',
      );
      const recorded = await waitFor(
        'every status recorded',
        async () => {
          const { externalAccounts } = await sys.ok('GET', `/api/external-accounts?ownerAccountId=${owner.id}&state=ok&limit=1000`);
          return externalAccounts.length === ACCOUNTS
            ? (externalAccounts as { recordedStatus: { lastRun: { delivered: number } } }[])
            : null;
        },
        30_000,
      );
      assert.ok(
        recorded.every((e) => e.recordedStatus.lastRun.delivered === PER_ACCOUNT),
        'one query lists them all as ok, with their first run',
      );
      await waitFor(
        'every remote mailbox emptied',
        async () => (await Promise.all(users.map(countOnServer))).every((n) => n === 0),
        60_000,
      );
    },
  );
});
