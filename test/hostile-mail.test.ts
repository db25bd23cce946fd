import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { addUser, countOnServer, readByPop3 } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { LOCAL_ACCOUNTS, hostileCorpus } from '../testkit/hostile-corpus';
import { writeMaildir } from '../testkit/maildir';
import { useTestSystem } from '../testkit/system';

const REPORT = 'event loop: max delay ';

/** The event-loop delays the worker reported (it reports every second in these tests), oldest first. */
function loopDelays(log: string): number[] {
  return log
    .split('\n')
    .filter((line) => line.includes(REPORT))
    .map((line) => Number.parseInt(line.slice(line.indexOf(REPORT) + REPORT.length), 10));
}

describe('hostile mail over POP3 and IMAP (Dovecot)', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_LOOP_REPORT_SECONDS: '1' } });
  const corpus = hostileCorpus();
  const accountIds = new Map<string, string>();
  before(async () => {
    for (const address of LOCAL_ACCOUNTS) accountIds.set((await sys.localAccount(address)).id, address);
  });

  for (const protocol of ['pop3', 'imap'] as const) {
    test(`${protocol}: every hostile message is delivered or quarantined, the ordinary one after them arrives, the worker's loop never blocks`, async () => {
      const user = await addUser(`hostile${protocol}`);
      await writeMaildir(user, corpus.length, (i) => corpus[i].raw);
      const owner = await sys.localAccount(`${protocol}-owner@local.test`);
      const settings = { deletePolicy: 'immediately', mimeRecipients: { enabled: true } };
      // What the server serves (Dovecot's POP3 turns bare LF into CRLF): the bytes to compare with.
      const served = protocol === 'pop3' ? await readByPop3(user) : [];
      const reportsBefore = loopDelays(sys.worker!.output()).length;
      const started = Date.now();
      const external = protocol === 'pop3' ? await sys.pop3Account(owner, user, settings) : await sys.imapAccount(owner, user, settings);
      const status = await sys.waitForCycles(external.id, 1, 300_000);
      const handledMs = Date.now() - started;
      // two more reports: the last one covers a whole second after the cycle ended
      const delays = await waitFor('the worker to report its event loop', () => {
        const all = loopDelays(sys.worker!.output());
        return all.length >= reportsBefore + 2 && all.slice(reportsBefore);
      });
      const maxDelay = Math.max(...delays);
      console.log(
        `# ${protocol}: ${corpus.length} hostile messages handled in ${handledMs} ms; worker event loop max delay ${maxDelay} ms`,
      );
      assert.equal(status.lastError, null, JSON.stringify(status.lastError));
      assert.equal(status.lastRun?.outcome, 'ok');

      const { rows: stored } = await sys.db.pool.query<{ raw: Buffer; subject: string | null; account_id: string; source_uid: string }>(
        'SELECT raw, subject, account_id, source_uid FROM messages WHERE external_account_id = $1',
        [external.id],
      );
      const quarantined = (await sys.ok('GET', `/api/quarantine?externalAccountId=${external.id}`)).total as number;
      // a message for several local accounts is stored once for each
      const messages = new Set(stored.map((s) => s.source_uid)).size;
      assert.equal(messages + quarantined, corpus.length, `${messages} stored + ${quarantined} quarantined = every message`);
      assert.equal(await countOnServer(user), 0, 'all were kept, so all were removed');

      const ordinary = stored.filter((s) => s.subject === 'an ordinary message ✓');
      assert.deepEqual(
        ordinary.map((s) => accountIds.get(s.account_id)),
        ['ann@local.test'],
        'the ordinary message after the hostile ones reached its recipient',
      );
      for (const message of corpus) {
        const copies = stored.filter((s) => s.raw.equals(message.raw));
        if (message.expect.deliveredTo) {
          assert.deepEqual(
            copies.map((s) => accountIds.get(s.account_id) ?? 'the owner').sort(),
            [...message.expect.deliveredTo].sort(),
            `${message.name}: delivered to its recipients`,
          );
        }
        if (copies.length === 0 || message.expect.subject === undefined) continue;
        assert.equal(copies[0].subject, message.expect.subject, message.name);
      }
      if (protocol === 'pop3') {
        assert.equal(
          stored.filter((s) => served.some((m) => m.equals(s.raw))).length,
          stored.length,
          'POP3 copies are byte-identical to what the server serves',
        );
      }
      assert.ok(maxDelay < 1000, `the worker's event loop was delayed ${maxDelay} ms at most`);
    });
  }
});
