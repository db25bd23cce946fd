// test-file-timeout-ms: 720000
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { freezePostgres, freezeTemporal } from '../testkit/faults';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';
import { startProxy, type TcpProxy } from '../testkit/tcp-proxy';

/** As long as the issue asks: a server that hangs for a minute, not one that restarts. */
const STOP_MS = 60_000;
/** After SIGCONT, how long the accounts may take to store everything and end a clean cycle. */
const RECOVER_MS = 180_000;
const MESSAGES = 60;

describe('PostgreSQL or Temporal stopped (SIGSTOP) for a minute in the middle of a collection', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_COMMIT_MESSAGES: '5', MAILPULL_BATCH_MESSAGES: '20' } });
  const proxies: TcpProxy[] = [];

  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  for (const [name, freeze] of [
    ['PostgreSQL', freezePostgres],
    ['Temporal', freezeTemporal],
  ] as const) {
    test(`${name}: collection goes on after SIGCONT within a bound, every message stored exactly once and then removed from the server, the worker up`, async () => {
      const owner = await sys.localAccount(`owner@${name.toLowerCase()}-stopped.test`);
      const accounts: { id: string; user: Awaited<ReturnType<typeof addUser>>; messages: Buffer[] }[] = [];
      for (const protocol of ['pop3', 'imap'] as const) {
        const user = await addUser('stopped');
        const messages = Array.from({ length: MESSAGES }, () => buildMessage({ body: textOfSize(40_000) }));
        await saveMessages(user, messages);
        // slowed, so that the collection is still running when the server stops
        const proxy = await startProxy(protocol === 'pop3' ? testEnv.pop3Port() : testEnv.imapPort(), 150);
        proxies.push(proxy);
        const extra = { port: proxy.port, tlsMode: 'disabled', tlsCa: null, deletePolicy: 'immediately', intervalMinutes: 1 };
        const created = protocol === 'pop3' ? await sys.pop3Account(owner, user, extra) : await sys.imapAccount(owner, user, extra);
        accounts.push({ id: created.id, user, messages });
      }
      const stored = async (): Promise<Buffer[]> => sys.storedMessages(owner.id);
      await waitFor('the collection to be under way', async () => (await stored()).length >= 10, 120_000, 200);
      const before = (await stored()).length;
      assert.ok(before < 2 * MESSAGES, `still collecting when ${name} stops (${before} stored)`);

      const stoppedAt = Date.now();
      const processes = await freeze(STOP_MS);
      assert.ok(processes >= 1, `${name} was stopped`);
      const resumed = Date.now();

      let seen = '';
      await waitFor(
        'every message stored and every account with a clean cycle begun after the stop',
        async () => {
          const count = (await stored()).length;
          const statuses = await Promise.all(accounts.map((a) => sys.status(a.id)));
          seen = `${count} stored; ${statuses.map((s) => JSON.stringify({ phase: s.phase, lastRun: s.lastRun, lastError: s.lastError, retrying: s.retrying })).join('; ')}`;
          return (
            count >= 2 * MESSAGES && statuses.every((s) => s.lastRun?.outcome === 'ok' && Date.parse(s.lastRun.startedAt) >= stoppedAt)
          );
        },
        RECOVER_MS,
        1_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\nlast seen: ${seen}\nworker:\n${sys.worker?.output().slice(-6000) ?? ''}`);
      });
      const took = Date.now() - resumed;
      console.log(
        `${name} stopped ${STOP_MS / 1000} s with ${before} of ${2 * MESSAGES} stored; everything stored ${took} ms after SIGCONT`,
      );

      const all = await stored();
      for (const account of accounts) {
        for (const [i, message] of account.messages.entries()) {
          assert.equal(all.filter((s) => s.equals(message)).length, 1, `message ${i + 1} stored exactly once`);
        }
        await waitFor('the server to be emptied', async () => (await countOnServer(account.user)) === 0, 120_000, 500);
      }
      assert.equal(sys.worker?.child.exitCode, null, 'the worker is still running');
      assert.equal(sys.worker?.child.signalCode, null, 'the worker is still running');
    });
  }
});
