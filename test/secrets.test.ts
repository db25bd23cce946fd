import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseKeys } from '../secrets/keyring';
import { addUser, saveMessages } from './support/dovecot';
import { buildMessage } from './support/messages';
import { useTestSystem } from './support/system';

const CLI = path.resolve(__dirname, '../cli/main.js');

describe('secrets at rest and in logs', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });

  const cli = async (...args: string[]): Promise<string> =>
    (
      await promisify(execFile)(process.execPath, [CLI, ...args], {
        env: { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile },
      })
    ).stdout;

  const everything = async (): Promise<string> =>
    (
      await sys.db.pool.query<{ t: string }>(
        `SELECT string_agg(t, E'\\n') AS t FROM (
         SELECT row_to_json(e)::text AS t FROM external_accounts e
         UNION ALL SELECT row_to_json(s)::text FROM external_account_secrets s
         UNION ALL SELECT encode(sealed, 'escape') FROM external_account_secrets) x`,
      )
    ).rows[0].t;

  test('passwords are sealed in Postgres, absent from history, logs and API answers; rotating the key keeps accounts working', async () => {
    const pop3User = await addUser('sp');
    const imapUser = await addUser('si');
    await saveMessages(pop3User, [buildMessage({ subject: 'p1' })]);
    await saveMessages(imapUser, [buildMessage({ subject: 'i1' })]);
    const owner = await sys.localAccount('owner@secrets.test');
    const pop3 = await sys.pop3Account(owner, pop3User);
    const imap = await sys.imapAccount(owner, imapUser);
    const apop = await sys.pop3Account(owner, pop3User, { name: 'apop', authMethod: 'apop', deletePolicy: 'never' });
    for (const account of [pop3, imap, apop]) {
      assert.equal(account.passwordSet, true);
      assert.ok(!('password' in account), 'the API never shows a password');
      await sys.waitForCycles(account.id, 1);
    }
    assert.equal((await sys.storedMessages(owner.id)).length, 3, 'p1 through POP3 and APOP, i1 through IMAP');

    const firstKey = parseKeys(await readFile(sys.keyFile, 'utf8'), 'key file')[0].id;
    const dump = await everything();
    const passwords = [pop3User.password, imapUser.password];
    for (const password of passwords) assert.ok(!dump.includes(password), 'no password in clear in Postgres');
    const keyIds = await sys.db.pool.query<{ key_id: string }>('SELECT DISTINCT key_id FROM external_account_secrets');
    assert.deepEqual(
      keyIds.rows.map((r) => r.key_id),
      [firstKey],
    );

    const workerLog = sys.worker?.output() ?? '';
    assert.match(workerLog, /C: PASS \*\*\*\*/, 'the POP3 trace shows PASS, masked');
    assert.match(workerLog, /C: APOP \*\*\*\*/, 'the POP3 trace shows APOP, masked');
    assert.match(workerLog, /C: \S+ AUTHENTICATE PLAIN/, 'the IMAP trace shows the login');
    const saslPlain = Buffer.from(`\0${imapUser.name}\0${imapUser.password}`).toString('base64');
    assert.ok(!workerLog.includes(saslPlain), 'not even base64-encoded in the trace');
    for (const password of passwords) {
      assert.ok(!workerLog.includes(password), 'no password in the worker log, trace included');
      assert.ok(!sys.apiLog.join('\n').includes(password), 'no password in the API log');
      for (const account of [pop3, imap, apop])
        assert.ok(!(await sys.historyText(account.id)).includes(password), 'no password in history');
      const listed = await sys.api('GET', '/api/external-accounts');
      assert.ok(!listed.raw.toString().includes(password), 'no password in API answers');
    }

    // Rotate: a new key first in the file, every secret re-sealed, the old key dropped.
    const report = await cli('secrets', 'rotate');
    assert.match(report, /re-sealed 3 secret\(s\)/);
    const keys = parseKeys(await readFile(sys.keyFile, 'utf8'), 'key file');
    assert.equal(keys.length, 1, 'the old key is gone from the file');
    assert.notEqual(keys[0].id, firstKey);
    const rotated = await sys.db.pool.query<{ key_id: string }>('SELECT DISTINCT key_id FROM external_account_secrets');
    assert.deepEqual(
      rotated.rows.map((r) => r.key_id),
      [keys[0].id],
    );

    // The running worker reads the new key file and goes on collecting.
    await saveMessages(pop3User, [buildMessage({ subject: 'p2' })]);
    await saveMessages(imapUser, [buildMessage({ subject: 'i2' })]);
    for (const account of [pop3, imap]) {
      await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
      const status = await sys.waitForCycles(account.id, 2);
      assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    }
    assert.equal((await sys.storedMessages(owner.id)).length, 5);
    // And a password changed through the API is sealed with the new key.
    await sys.ok('PATCH', `/api/external-accounts/${apop.id}`, { password: pop3User.password });
    const after = await sys.db.pool.query('SELECT 1 FROM external_account_secrets WHERE key_id <> $1', [keys[0].id]);
    assert.equal(after.rowCount, 0);
  });

  test('a password stored before encryption (migration 003) is sealed when the worker starts', async () => {
    const user = await addUser('sl');
    const owner = await sys.localAccount('legacy@secrets.test');
    const account = await sys.pop3Account(owner, user);
    await sys.db.pool.query(
      "UPDATE external_account_secrets SET key_id = 'plaintext', sealed = convert_to($2, 'UTF8') WHERE external_account_id = $1",
      [account.id, user.password],
    );
    await sys.worker?.stop();
    await sys.startWorker({ MAILPULL_PROTOCOL_TRACE: '1' });
    assert.ok(!(await everything()).includes(user.password));
    await saveMessages(user, [buildMessage()]);
    await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
    await sys.waitForCycles(account.id, 1);
    const status = await sys.status(account.id);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
  });
});
