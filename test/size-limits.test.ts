import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MAX_STORED_MESSAGE_BYTES } from '../core/config';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

const GLOBAL = 100_000;

/** Starts dist/<process>/main.js with this environment and returns its exit code and output once it ends. */
function runUntilExit(main: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve(__dirname, '..', main, 'main.js')], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${main} did not stop by itself:\n${output}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('message size limits', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_MAX_MESSAGE_BYTES: String(GLOBAL) } });

  test("an account's own limit above the global one is 400 naming maxMessageBytes, on create and on change", async () => {
    const owner = await sys.localAccount('owner@size.test');
    const user = await addUser('sizeapi');
    for (const bytes of [GLOBAL + 1, MAX_STORED_MESSAGE_BYTES, 2 ** 40]) {
      const refused = await sys.api('POST', '/api/external-accounts', {
        ownerAccountId: owner.id,
        name: 'too large a limit',
        host: '127.0.0.1',
        username: user.name,
        password: user.password,
        enabled: false,
        maxMessageBytes: bytes,
      });
      assert.equal(refused.status, 400, `${bytes}: ${refused.raw.toString()}`);
      assert.equal(refused.body.field, 'maxMessageBytes');
    }
    assert.equal((await sys.ok('GET', '/api/external-accounts')).externalAccounts.length, 0, 'nothing was created');
    const external = await sys.pop3Account(owner, user, { enabled: false, maxMessageBytes: GLOBAL });
    assert.equal(external.maxMessageBytes, GLOBAL, 'the global limit itself is allowed');
    const changed = await sys.api('PATCH', `/api/external-accounts/${external.id}`, { maxMessageBytes: GLOBAL + 1 });
    assert.equal(changed.status, 400, changed.raw.toString());
    assert.equal(changed.body.field, 'maxMessageBytes');
    assert.equal((await sys.ok('GET', `/api/external-accounts/${external.id}`)).maxMessageBytes, GLOBAL);
  });

  test('an own limit stored above the global one before it was checked is capped at the global one', async () => {
    const owner = await sys.localAccount('capped@size.test');
    const user = await addUser('sizecap');
    await saveMessages(user, [
      buildMessage({ to: owner.address, subject: 'small' }),
      buildMessage({ to: owner.address, subject: 'over the global limit', body: textOfSize(2 * GLOBAL) }),
    ]);
    const external = await sys.pop3Account(owner, user, { enabled: false });
    await sys.db.pool.query('UPDATE external_accounts SET max_message_bytes = $2 WHERE id = $1', [external.id, 10 * GLOBAL]);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { enabled: true });
    // the change can queue a second, quiet cycle behind the one that collects: read the counts, not the first run
    const status = await waitFor('the small message delivered', async () => {
      const seen = await sys.waitForCycles(external.id, 1);
      return seen.counts.delivered > 0 ? seen : null;
    });
    assert.equal(status.lastRun?.outcome, 'ok', JSON.stringify(status.lastRun));
    assert.equal(status.lastRun?.tooLarge, 1, JSON.stringify(status.lastRun));
    assert.equal(status.counts.delivered, 1, JSON.stringify(status.counts));
    const stored = await sys.ok('GET', `/api/accounts/${owner.id}/messages`);
    assert.deepEqual(
      stored.messages.map((m: { subject: string }) => m.subject),
      ['small'],
    );
    assert.equal(await countOnServer(user), 2, 'the large one stays on the server');
  });

  test('a global limit above what the store can hold stops the worker and the API at start, saying why', async () => {
    for (const main of ['worker', 'api']) {
      const { code, output } = await runUntilExit(main, {
        DATABASE_URL: sys.db.url,
        MAILPULL_SECRET_KEY_FILE: sys.keyFile,
        MAILPULL_MAX_MESSAGE_BYTES: String(MAX_STORED_MESSAGE_BYTES + 1),
      });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`MAILPULL_MAX_MESSAGE_BYTES must be at most ${MAX_STORED_MESSAGE_BYTES}`), main);
      assert.match(output, /the store can hold/, main);
    }
  });
});
