import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMMANDS } from '../cli/commands';
import { addUser, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { TestSystem } from '../testkit/system';

const CLI = path.resolve(__dirname, '../cli/main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the mailpull CLI, run as a child process against the real API', () => {
  let sys: TestSystem;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  /** Runs the built CLI; the API URL and the admin token come from the environment unless env says otherwise. */
  const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  const ok = async (...args: string[]): Promise<string> => {
    const run = await cli(args);
    assert.equal(run.code, 0, `mailpull ${args.join(' ')} failed: ${run.stderr}`);
    return run.stdout.trimEnd();
  };
  const json = async <T = any>(...args: string[]): Promise<T> => JSON.parse(await ok(...args, '--json')) as T;
  const caFile = (): string => path.join(testEnv.dovecotDir(), 'tls', 'ca.pem');

  before(async () => {
    sys = await TestSystem.start();
    dir = await mkdtemp(path.join(tmpdir(), 'mailpull-cli-'));
    // no database for the CLI unless a test gives it: the API commands must not need one
    const rest = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'MAILPULL_SECRET_KEY', 'MAILPULL_SECRET_KEY_FILE'].includes(k)),
    );
    env = { ...rest, MAILPULL_API_URL: sys.baseUrl, MAILPULL_API_TOKEN: sys.adminToken, MAILPULL_DATA_DIR: dir };
  });
  after(async () => {
    await sys.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('--help on every command and group prints its usage and exits 0', async () => {
    for (const command of COMMANDS) {
      const run = await cli([...command.words, '--help']);
      assert.equal(run.code, 0, command.words.join(' '));
      assert.ok(run.stdout.startsWith(`usage: mailpull ${command.words.join(' ')}`), run.stdout);
    }
    for (const group of new Set(COMMANDS.filter((c) => c.words.length > 1).map((c) => c.words[0]))) {
      const run = await cli([group, '--help']);
      assert.equal(run.code, 0);
      assert.match(run.stdout, new RegExp(`^usage: mailpull ${group} SUBCOMMAND`));
    }
    const top = await cli(['--help']);
    assert.equal(top.code, 0);
    for (const command of COMMANDS) assert.ok(top.stdout.includes(`  ${command.words.join(' ')}`), command.words.join(' '));
    assert.match(top.stdout, /tokens create .*\[database\]/);
  });

  test('a wrong command line exits 2 with the usage: missing argument, unknown option, unknown command', async () => {
    const missing = await cli(['domains', 'add']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing argument NAME/);
    assert.match(missing.stderr, /usage: mailpull domains add NAME/);
    const unknownOption = await cli(['domains', 'list', '--frobnicate']);
    assert.equal(unknownOption.code, 2);
    assert.match(unknownOption.stderr, /frobnicate/);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const noSub = await cli(['quarantine']);
    assert.equal(noSub.code, 2);
    assert.match(noSub.stderr, /quarantine list/);
    const badPort = await cli(['external-accounts', 'add', '--owner', 'a@b.test', '--host', 'h', '--username', 'u', '--port', 'x']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be a whole number/);
    assert.equal(missing.stdout + unknown.stdout, '', 'usage errors go to stderr');
  });

  test("an API refusal prints the API's message naming the field and exits 1", async () => {
    const badName = await cli(['domains', 'add', 'no_dots']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /name: must be a domain name/);
    assert.match(badName.stderr, /HTTP 400 invalid_request/);
    const noDomain = await cli(['accounts', 'add', 'x@unknown-domain.test']);
    assert.equal(noDomain.code, 1);
    assert.match(noDomain.stderr, /address: unknown-domain\.test is not a local domain/);
    const notFound = await cli(['domains', 'show', 'nowhere.test']);
    assert.equal(notFound.code, 1);
    assert.match(notFound.stderr, /no domain "nowhere\.test"/);
  });

  test('a bad, missing or read-only token, or no API at all, fails with a clear message', async () => {
    const bad = await cli(['domains', 'list'], { MAILPULL_API_TOKEN: 'mpt_nope_nope' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the API refused the token: invalid or revoked token.*--token or MAILPULL_API_TOKEN/);
    const none = await cli(['domains', 'list'], { MAILPULL_API_TOKEN: '' });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no API token: pass --token TOKEN or set MAILPULL_API_TOKEN/);
    const flag = await cli(['domains', 'list', '--token', 'mpt_x_y']);
    assert.match(flag.stderr, /refused the token/, '--token wins over the environment');
    const readOnly = await sys.createToken('read');
    assert.equal((await cli(['domains', 'list', '--token', readOnly])).code, 0);
    const write = await cli(['domains', 'add', 'ro.test', '--token', readOnly]);
    assert.equal(write.code, 1);
    assert.match(write.stderr, /read-only/);
    const closedPort = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const down = await cli(['domains', 'list', '--api-url', `http://127.0.0.1:${closedPort}`]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, new RegExp(`cannot reach the mailpull API at http://127\\.0\\.0\\.1:${closedPort}: ECONNREFUSED`));
  });

  test('domains and accounts: add, list, show, disable, enable, delete; --json parses', async () => {
    assert.match(await ok('domains', 'add', 'cli.test'), /^created domain cli\.test \(/);
    const domains = await json<{ name: string; enabled: boolean }[]>('domains', 'list');
    assert.deepEqual(
      domains.map((d) => d.name),
      ['cli.test'],
    );
    assert.match(await ok('domains', 'list'), /^ID +NAME +ENABLED +DELIVERY\n.* cli\.test +yes +store$/);
    const owner = await json<{ id: string; address: string }>('accounts', 'add', 'owner@cli.test');
    assert.equal(owner.address, 'owner@cli.test');
    assert.equal((await json('accounts', 'show', 'owner@cli.test')).id, owner.id);
    assert.equal((await json('accounts', 'show', owner.id)).address, 'owner@cli.test');
    assert.deepEqual(
      (await json<{ address: string }[]>('accounts', 'list', '--domain', 'cli.test')).map((a) => a.address),
      ['owner@cli.test'],
    );
    assert.equal((await json('domains', 'disable', 'cli.test')).enabled, false);
    assert.equal((await sys.ok('GET', '/api/domains')).domains[0].enabled, false, 'the API has it');
    assert.equal((await json('domains', 'enable', 'cli.test')).enabled, true);
    assert.equal((await json('accounts', 'disable', 'owner@cli.test')).enabled, false);
    assert.equal((await json('accounts', 'enable', 'owner@cli.test')).enabled, true);
    await ok('domains', 'add', 'gone.test');
    await ok('accounts', 'add', 'x@gone.test');
    const refused = await cli(['domains', 'delete', 'gone.test']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /still has accounts/);
    assert.match(await ok('accounts', 'delete', 'x@gone.test'), /^deleted account x@gone\.test/);
    assert.match(await ok('domains', 'delete', 'gone.test'), /^deleted domain gone\.test/);
    assert.deepEqual(
      (await json<{ name: string }[]>('domains', 'list')).map((d) => d.name),
      ['cli.test'],
    );
  });

  test('external accounts: add, list, show without secrets, status, connect-now brings a message, disable, enable, delete', async () => {
    const user = await addUser('cli');
    const passwordFile = path.join(dir, 'password');
    await writeFile(passwordFile, `${user.password}\n`);
    const created = await json<{ id: string; name: string; passwordSet: boolean; port: number }>(
      'external-accounts',
      'add',
      '--owner',
      'owner@cli.test',
      '--host',
      '127.0.0.1',
      '--port',
      String(testEnv.pop3Port()),
      '--username',
      user.name,
      '--password-file',
      passwordFile,
      '--tls-ca-file',
      caFile(),
      '--name',
      'cli pop3',
      '--delete',
      'never',
    );
    assert.equal(created.passwordSet, true);
    assert.equal(created.port, testEnv.pop3Port());
    const shown = await ok('external-accounts', 'show', 'cli pop3');
    assert.match(shown, /passwordSet +true/);
    assert.ok(!shown.includes(user.password), 'the password is never shown');
    assert.match(
      await ok('external-accounts', 'list', '--owner', 'owner@cli.test'),
      new RegExp(`cli pop3 +pop3 +127\\.0\\.0\\.1:${testEnv.pop3Port()}`),
    );

    // the first cycle (on creation) finds an empty mailbox; only Connect Now can bring what arrives next
    await waitFor('the first cycle', async () => (await json('status', created.id)).counts?.cycles >= 1, 60_000, 300);
    const owner = (await json<{ id: string }>('accounts', 'show', 'owner@cli.test')).id;
    await saveMessages(user, [buildMessage({ subject: 'via connect-now' })]);
    assert.match(await ok('connect-now', 'cli pop3'), /connect now: a cycle of "cli pop3"/);
    await waitFor('the message in the store', async () => (await sys.storedMessages(owner)).length === 1, 60_000, 300);
    assert.match((await sys.storedMessages(owner))[0].toString(), /Subject: via connect-now/);
    const status = await waitFor(
      'the cycle to finish',
      async () => {
        const s = await json('status', 'cli pop3');
        return s.lastRun?.delivered === 1 ? s : null;
      },
      60_000,
      300,
    );
    assert.equal(status.counts.delivered, 1);
    const all = await ok('status');
    assert.match(all, /^ID +NAME +PHASE +PROGRESS +DELIVERED +LAST RUN +NEXT RUN +LAST ERROR\n/);
    assert.match(all, /cli pop3 +\w+ +- +1 +\S+ ok, 1 delivered/);

    assert.equal((await json('external-accounts', 'disable', created.id)).enabled, false);
    assert.equal((await json('external-accounts', 'enable', created.id)).enabled, true);
    assert.deepEqual(await json('quarantine', 'list', '--external-account', 'cli pop3'), { total: 0, messages: [] });
    const badId = await cli(['quarantine', 'retry', 'abc']);
    assert.equal(badId.code, 1);
    assert.match(badId.stderr, /not a quarantine id/);
    const missing = await cli(['quarantine', 'discard', '12345']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /quarantined message 12345 not found/);
    assert.match(await ok('external-accounts', 'delete', 'cli pop3'), /^deleted external account "cli pop3"/);
    assert.deepEqual(await json('external-accounts', 'list'), []);
  });

  test('import fetchmailrc: --dry-run creates nothing; then the accounts are created, unsupported options listed, and mail arrives', async () => {
    const [pop, imap] = [await addUser('fm'), await addUser('fmi')];
    await saveMessages(pop, [buildMessage({ subject: 'fetchmail pop3' })]);
    await saveMessages(imap, [buildMessage({ subject: 'fetchmail imap' })]);
    const rc = path.join(dir, 'fetchmailrc');
    await writeFile(
      rc,
      `# imported by the CLI test
set daemon 600
set logfile "/var/log/fetchmail.log"
defaults
  sslcertfile "${caFile()}"
  mda "/usr/bin/procmail -d %T"

poll 127.0.0.1 with proto POP3 port ${testEnv.pop3Port()}
  user "${pop.name}" there with password "${pop.password}" is owner here keep fetchlimit 10

poll imap-on-loopback via 127.0.0.1 protocol imap service ${testEnv.imapPort()}
  username '${imap.name}' pass '${imap.password}' to owner@cli.test here keep folder INBOX
`,
    );
    const dry = await cli(['import', 'fetchmailrc', rc, '--owner', 'owner@cli.test', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`would create: "${pop.name}@127\\.0\\.0\\.1" from poll 127\\.0\\.0\\.1, user ${pop.name}`));
    assert.match(dry.stdout, /pop3 .*, tls starttls, delete never, folders inbox, owner owner@cli\.test/);
    assert.match(dry.stdout, /no equivalent: fetchlimit 10 — /);
    assert.equal(dry.stdout.split('no equivalent: mda').length - 1, 2, 'mda listed for each poll entry');
    assert.match(dry.stdout, /no equivalent \(whole file\): set logfile/);
    assert.ok(!dry.stdout.includes(pop.password), 'no password printed');
    assert.deepEqual((await sys.ok('GET', '/api/external-accounts')).externalAccounts, [], 'the dry run created nothing');

    const result = await json<{ entries: { createdId: string | null; error: string | null; account: Record<string, unknown> }[] }>(
      'import',
      'fetchmailrc',
      rc,
      '--owner',
      'owner@cli.test',
    );
    assert.deepEqual(
      result.entries.map((e) => e.error),
      [null, null],
    );
    assert.ok(result.entries.every((e) => !('password' in e.account)));
    const created = (await sys.ok('GET', '/api/external-accounts')).externalAccounts;
    assert.deepEqual(created.map((e: any) => [e.protocol, e.port, e.intervalMinutes, e.deletePolicy]).sort(), [
      ['imap', testEnv.imapPort(), 10, 'never'],
      ['pop3', testEnv.pop3Port(), 10, 'never'],
    ]);
    const owner = (await json<{ id: string }>('accounts', 'show', 'owner@cli.test')).id;
    const imported = async (): Promise<string[]> =>
      (await sys.storedMessages(owner))
        .map((m) => /Subject: (.*)/.exec(m.toString())?.[1].trim() ?? '')
        .filter((s) => s.startsWith('fetchmail'))
        .sort();
    await waitFor('both imported messages', async () => (await imported()).length === 2, 90_000, 300);
    assert.deepEqual(await imported(), ['fetchmail imap', 'fetchmail pop3']);
    for (const e of created) await sys.ok('DELETE', `/api/external-accounts/${e.id}`, undefined, 204);
  });

  test('import getmailrc: an IMAP retriever against the test Dovecot; a file that cannot be imported exits 1 and says why', async () => {
    const user = await addUser('gm');
    await saveMessages(user, [buildMessage({ subject: 'getmail imap' })]);
    const rc = path.join(dir, 'getmailrc');
    await writeFile(
      rc,
      `[retriever]
type = SimpleIMAPRetriever
server = 127.0.0.1
port = ${testEnv.imapPort()}
username = ${user.name}
password = ${user.password}
mailboxes = ("INBOX",)
ca_certs = ${caFile()}

[destination]
type = Maildir
path = ~/Maildir/

[options]
read_all = false
delete = false
max_message_size = 10000000
`,
    );
    const broken = path.join(dir, 'getmailrc-broken');
    await writeFile(
      broken,
      '[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nusername = nobody\npassword_command = ("pass", "x")\n',
    );
    const run = await cli(['import', 'getmailrc', rc, broken, '--owner', 'owner@cli.test']);
    assert.equal(run.code, 1, 'one entry could not be created');
    assert.match(run.stdout, /^created [0-9a-f-]{36}: ".*@127\.0\.0\.1" from .*getmailrc \[retriever\]/m);
    assert.match(run.stdout, /imap .*, tls detect, delete never, folders inbox, owner owner@cli\.test/);
    assert.match(run.stdout, /no equivalent: \[destination\] type=Maildir path=~\/Maildir\//);
    assert.match(run.stdout, /NOT CREATED: "nobody@127\.0\.0\.1"[\s\S]*reason: no password in the file/);
    const created = (await sys.ok('GET', '/api/external-accounts')).externalAccounts.find((e: any) => e.username === user.name);
    assert.equal(created.maxMessageBytes, 10_000_000);
    const owner = (await json<{ id: string }>('accounts', 'show', 'owner@cli.test')).id;
    await waitFor(
      'the imported message',
      async () => (await sys.storedMessages(owner)).some((m) => m.toString().includes('Subject: getmail imap')),
      90_000,
      300,
    );
    const noOwner = await cli(['import', 'getmailrc', rc, '--owner', 'nobody@cli.test']);
    assert.equal(noOwner.code, 1);
    assert.match(noOwner.stdout, /reason: no local account nobody@cli\.test; create it first/);
    const syntax = await cli(['import', 'fetchmailrc', rc, '--owner', 'owner@cli.test', '--dry-run']);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /getmailrc: line 1: /);
  });

  test('the database commands keep working: tokens create, list, revoke (DATABASE_URL), keys generate', async () => {
    const dbEnv = { DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile };
    const created = await cli(['tokens', 'create', '--name', 'cli test'], dbEnv);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^mpt_/);
    assert.equal((await cli(['domains', 'list', '--token', token])).code, 0, 'the new token works through the API');
    const listed = await cli(['tokens', 'list', '--json'], dbEnv);
    const id = token.split('_')[1];
    assert.ok((JSON.parse(listed.stdout) as { id: string; name: string }[]).some((t) => t.id === id && t.name === 'cli test'));
    assert.ok(!listed.stdout.includes(token.split('_').slice(2).join('_')));
    assert.match((await cli(['tokens', 'revoke', id], dbEnv)).stdout, new RegExp(`revoked ${id}`));
    assert.match((await cli(['domains', 'list', '--token', token])).stderr, /refused the token: invalid or revoked token/);
    const key = await cli(['keys', 'generate']);
    assert.equal(Buffer.from(key.stdout.trim(), 'base64').length, 32);
    const noName = await cli(['tokens', 'create'], dbEnv);
    assert.equal(noName.code, 1);
    assert.match(noName.stderr, /needs --name NAME/);
    const domainId = (await json<{ id: string }>('domains', 'show', 'cli.test')).id;
    const scoped = await cli(
      ['tokens', 'create', '--name', 'limited', '--read-only', '--messages-read', '--domain', 'cli.test', '--domain', domainId, '--json'],
      dbEnv,
    );
    assert.equal(scoped.code, 0, scoped.stderr);
    assert.deepEqual(
      { ...(JSON.parse(scoped.stdout) as Record<string, unknown>), token: undefined, id: undefined },
      { name: 'limited', scope: 'read', messagesRead: true, domainIds: [domainId], token: undefined, id: undefined },
      'one domain named twice, by name and by id',
    );
    assert.match((await cli(['tokens', 'create', '--help'])).stdout, /--domain DOMAIN .*\(may be repeated\)/);
  });

  test('audit: the changes made through the API, newest first, with --limit and --json; an admin token only', async () => {
    await ok('domains', 'add', 'audit-cli.test');
    await ok('domains', 'delete', 'audit-cli.test');
    const page = await json<{ total: number; entries: { action: string; object: string; tokenId: string; fields: string[] }[] }>(
      'audit',
      '--limit',
      '2',
    );
    assert.deepEqual(
      page.entries.map((e) => e.action),
      ['DELETE /api/domains/:id', 'POST /api/domains'],
    );
    assert.equal(page.entries[1].tokenId, sys.adminToken.split('_')[1]);
    assert.ok(page.entries[1].fields.includes('name'));
    assert.ok(page.total > 2);
    const text = await ok('audit', '--limit', '2');
    assert.match(text, /^AT +TOKEN +ACTION +OBJECT +FIELDS +STATUS\n/);
    assert.match(text, /\n\S+ +[0-9a-f]{12} +POST \/api\/domains +\/api\/domains\/[0-9a-f-]{36} +\S*name\S* +201\n/);
    assert.match(text, new RegExp(`\n2 of ${page.total} shown$`));
    const usage = await cli(['audit', '--limit', '0']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--limit must be a whole number from 1 to 1000/);
    const reader = await cli(['audit', '--token', await sys.createToken('read')]);
    assert.equal(reader.code, 1);
    assert.match(reader.stderr, /the audit log needs an admin token .*HTTP 403/);
  });
});
