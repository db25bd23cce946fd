import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { domainWithTarget } from './support/delivered';
import { addUser, countOnServer, logLinesFor, mailboxCount, saveMessages, setQuota, type DovecotUser } from '../testkit/dovecot';
import { sleep, testEnv, waitFor } from '../testkit/env';
import { withImap } from './support/imap';
import { buildMessage } from '../testkit/messages';
import { OAuthProvider } from './support/oauth-provider';
import { scriptedImap, type ScriptedFolder, type ScriptedImap } from './support/scripted-imap';
import { useTestSystem } from '../testkit/system';

const DAY_MS = 24 * 60 * 60_000;

/** Gmail's folders: INBOX and a label, the virtual ones holding copies of them, spam and trash. */
function gmailFolders(): { folders: ScriptedFolder[]; originals: Buffer[] } {
  const [a, b, c] = ['a', 'b', 'c'].map((s) => buildMessage({ subject: `mail ${s}` }));
  const folder = (path: string, attributes: string[], messages: Buffer[]): ScriptedFolder => ({
    path,
    attributes: ['\\HasNoChildren', ...attributes],
    messages,
  });
  return {
    originals: [a, b, c],
    folders: [
      folder('INBOX', [], [a, b]),
      folder('Work', [], [c]),
      { path: '[Gmail]', attributes: ['\\HasChildren', '\\Noselect'], messages: [] },
      folder('[Gmail]/All Mail', ['\\All'], [a, b, c]),
      folder('[Gmail]/Important', ['\\Important'], [a]),
      folder('[Gmail]/Starred', ['\\Flagged'], [b, c]),
      folder('[Gmail]/Spam', ['\\Junk'], [buildMessage({ subject: 'spam' })]),
      folder('[Gmail]/Trash', ['\\Trash'], [buildMessage({ subject: 'trash' })]),
    ],
  };
}

describe('provider quirks on a scripted Gmail-like / Microsoft-like IMAP server (Dovecot has neither)', () => {
  const sys = useTestSystem();
  const servers: ScriptedImap[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  /** An account made from the Gmail preset, pointed at the scripted server (password instead of OAuth2 there). */
  async function presetAccount(server: ScriptedImap, address: string) {
    const owner = await sys.localAccount(address);
    const external = await sys.ok('POST', '/api/external-accounts', {
      provider: 'gmail',
      ownerAccountId: owner.id,
      name: `gmail ${address}`,
      host: '127.0.0.1',
      port: server.port,
      tlsMode: 'disabled',
      authMethod: 'password',
      username: 'user@gmail.com',
      password: 'app-password',
      folders: { mode: 'all' },
    });
    return { owner, external };
  }

  async function gmailLike(refuse?: Parameters<typeof scriptedImap>[0]['refuse']) {
    const { folders, originals } = gmailFolders();
    const server = await scriptedImap({ user: 'user@gmail.com', password: 'app-password', folders, refuse });
    servers.push(server);
    return { server, originals };
  }

  test('folder mode "all": each message once, though All Mail, Important and Starred hold copies; spam and trash left out', async () => {
    const { server, originals } = await gmailLike();
    const { owner, external } = await presetAccount(server, 'copies@gmail-like.test');
    assert.deepEqual(external.folders, { mode: 'all', exclude: ['\\Junk', '\\Trash'] }, 'the preset filled the folders left out');
    assert.equal(external.protocol, 'imap');

    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastError, null, JSON.stringify(status.lastError));
    assert.equal(status.lastRun?.delivered, 3);
    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 3, 'three messages, each once');
    for (const original of originals) assert.equal(stored.filter((m) => m.equals(original)).length, 1);
    const opened = new Set(server.commands.flatMap((c) => (c.folder ? [c.folder] : [])));
    assert.deepEqual([...opened].sort(), ['INBOX', 'Work'], 'the virtual folders, spam and trash are never opened');
    assert.deepEqual(server.bodiesSent.sort(), ['INBOX/1', 'INBOX/2', 'Work/1']);
  });

  test("Gmail's bandwidth limit: the cycle is deferred until the next day, not failed or retried, and nothing is lost", async () => {
    let overQuota = true;
    const { server, originals } = await gmailLike((c) =>
      overQuota && c.verb === 'UID FETCH' && c.line.includes('BODY.PEEK[]')
        ? 'NO [OVERQUOTA] Account exceeded bandwidth limits. (Failure)'
        : null,
    );
    const { owner, external } = await presetAccount(server, 'quota@gmail-like.test');
    const before = Date.now();
    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.outcome, 'deferred');
    assert.equal(first.lastError, null, 'not a failure');
    assert.equal(first.counts.failedCycles, 0);
    assert.match(first.providerWait?.message ?? '', /daily download limit.*collects again after .*Nothing is lost/);
    const until = Date.parse(/after (\S+?)\. Nothing/.exec(first.providerWait?.message ?? '')?.[1] ?? '');
    assert.ok(until >= before + DAY_MS - 60_000 && until <= Date.now() + DAY_MS, `waits a day: ${new Date(until).toISOString()}`);
    assert.equal(server.logins, 2, 'one login to list, one to download: the refused download is not retried');
    const state = await waitFor('the recorded state', async () => {
      const listed = await sys.ok('GET', `/api/external-accounts?ownerAccountId=${owner.id}`);
      const recorded: string = listed.externalAccounts[0].state;
      return recorded === 'new' ? null : recorded;
    });
    assert.equal(state, 'ok', 'a deferred account is not failing');

    // Connect Now during the wait: no login at all
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(external.id, 2);
    assert.equal(second.lastRun?.outcome, 'deferred');
    assert.equal(server.logins, 2, 'no session during the wait');
    assert.equal((await sys.storedMessages(owner.id)).length, 0);

    // the next day (brought forward): everything is collected
    overQuota = false;
    await sys.db.pool.query('UPDATE provider_backoffs SET until = now() WHERE external_account_id = $1', [external.id]);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const third = await sys.waitForCycles(external.id, 3);
    assert.equal(third.lastRun?.outcome, 'ok');
    assert.equal(third.providerWait, null);
    const stored = await sys.storedMessages(owner.id);
    assert.equal(stored.length, 3);
    for (const original of originals) assert.equal(stored.filter((m) => m.equals(original)).length, 1);
  });

  test("Microsoft's throttling answer: waited out as a backoff, not counted as a failure", async () => {
    let throttled = 1;
    const { server } = await gmailLike((c) =>
      c.verb === 'EXAMINE' && throttled-- > 0 ? 'BAD Request is throttled. Suggested Backoff Time: 3000 milliseconds' : null,
    );
    const owner = await sys.localAccount('throttled@ms-like.test');
    const external = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'ms-like',
      protocol: 'imap',
      host: '127.0.0.1',
      port: server.port,
      tlsMode: 'disabled',
      username: 'user@gmail.com',
      password: 'app-password',
    });
    const first = await sys.waitForCycles(external.id, 1);
    assert.equal(first.lastRun?.outcome, 'deferred');
    assert.equal(first.lastError, null);
    assert.equal(first.counts.failedCycles, 0);
    assert.match(first.providerWait?.message ?? '', /throttles this mailbox.*Suggested Backoff Time: 3000 milliseconds.*not a failure/);
    assert.equal(server.logins, 1, 'not retried within the cycle');

    await sleep(3_500);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(external.id, 2);
    assert.equal(second.lastRun?.outcome, 'ok', JSON.stringify(second.lastError));
    assert.equal(second.providerWait, null);
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
  });
});

describe('IMAP APPEND with XOAUTH2 into a mailbox that only accepts OAuth2 (Dovecot, oauth2 passdb)', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_PROTOCOL_TRACE: '1' } });
  let provider: OAuthProvider;
  before(async () => {
    provider = await OAuthProvider.start();
  });
  after(async () => {
    await provider.close();
  });

  const xoauth2Logins = async (user: DovecotUser): Promise<number> =>
    (await logLinesFor(user)).filter((l) => /imap-login: Info: Login: .*method=XOAUTH2/.test(l)).length;

  test('an ISP mailbox is delivered into the linked mailbox; held, not lost, while no login is linked or its quota is full', async () => {
    const isp = await addUser('isp');
    const originals = [buildMessage({ subject: 'from the ISP one' }), buildMessage({ subject: 'from the ISP two' })];
    await saveMessages(isp, originals);
    // the mailbox's password is refused: only an OAuth2 access token logs in
    const mailbox = await addUser('gm', 'nologin=y reason=OAuth2_only');
    await assert.rejects(
      withImap(mailbox, () => Promise.resolve()),
      'a password login is refused',
    );

    const { targetId } = await domainWithTarget(sys, 'append-oauth.test', {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'oauth',
    });
    const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: 'alice@append-oauth.test' });
    const external = await sys.imapAccount(owner, isp);

    const unlinked = await sys.waitForCycles(external.id, 1);
    assert.equal(unlinked.lastError, null, JSON.stringify(unlinked.lastError));
    assert.equal(unlinked.delivery.backlog, 2, 'held for the target');
    assert.match(unlinked.delivery.lastError?.message ?? '', /no APPEND login.*PUT \/api\/accounts\/.*\/append-login/);
    assert.equal(await mailboxCount(mailbox), 0);
    assert.equal(await countOnServer(isp), 2, 'still on the ISP server');

    const refreshToken = await provider.grant(mailbox.name);
    const linked = await sys.ok('PUT', `/api/accounts/${owner.id}/append-login`, {
      deliveryTargetId: targetId,
      username: mailbox.name,
      oauth: {
        provider: 'custom',
        tokenEndpoint: provider.tokenEndpoint,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        refreshToken,
      },
    });
    assert.deepEqual(
      [linked.username, linked.oauth.refreshTokenSet, linked.oauth.clientSecretSet, linked.reauthorizationReason],
      [mailbox.name, true, true, null],
    );
    assert.ok(!JSON.stringify(linked).includes(refreshToken) && !JSON.stringify(linked).includes(provider.clientSecret));

    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const delivered = await sys.waitForCycles(external.id, 2);
    assert.equal(delivered.delivery.backlog, 0, JSON.stringify(delivered.delivery));
    assert.equal(await mailboxCount(mailbox), 2, 'both in the linked mailbox');
    assert.ok((await xoauth2Logins(mailbox)) >= 1, 'Dovecot logged XOAUTH2 logins');
    assert.equal(provider.tokenRequests, 1);

    // the mailbox is full (an upload limit): held until the next day, not quarantined
    await setQuota(mailbox, 1);
    await saveMessages(isp, [buildMessage({ subject: 'over quota', body: 'x'.repeat(4096) })]);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const full = await sys.waitForCycles(external.id, 3);
    assert.equal(full.delivery.backlog, 1);
    assert.equal(full.delivery.quarantined, 0);
    assert.match(full.delivery.lastError?.message ?? '', /OVERQUOTA|quota/i);
    assert.ok(
      Date.parse(full.delivery.nextAttemptAt ?? '') > Date.now() + DAY_MS - 5 * 60_000,
      `next attempt: ${full.delivery.nextAttemptAt}`,
    );
    assert.equal(await mailboxCount(mailbox), 2);

    await setQuota(mailbox, 100_000);
    await sys.db.pool.query("UPDATE held_messages SET next_attempt_at = now() WHERE external_account_id = $1 AND state = 'pending'", [
      external.id,
    ]);
    await sys.ok('POST', `/api/external-accounts/${external.id}/connect-now`, undefined, 202);
    const after = await sys.waitForCycles(external.id, 4);
    assert.equal(after.delivery.backlog, 0, JSON.stringify(after.delivery));
    assert.equal(await mailboxCount(mailbox), 3);

    const secrets = [refreshToken, provider.clientSecret, ...provider.issued];
    const history = await sys.historyText(external.id);
    const workerLog = sys.worker?.output() ?? '';
    for (const secret of secrets) {
      assert.ok(!history.includes(secret), 'no secret in the workflow history');
      assert.ok(!workerLog.includes(secret), 'no secret in the worker log');
      assert.ok(!sys.apiLog.join('\n').includes(secret), 'no secret in the API log');
    }
  });

  test('API input: the target must be an oauth IMAP target; unknown accounts are 404', async () => {
    const { targetId } = await domainWithTarget(sys, 'append-bad.test', {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'user',
      username: 'someone',
      password: 'pw',
    });
    const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: 'bob@append-bad.test' });
    const body = {
      deliveryTargetId: targetId,
      username: 'bob',
      oauth: { provider: 'google', clientId: 'id', refreshToken: 'rt' },
    };
    const wrongTarget = await sys.api('PUT', `/api/accounts/${owner.id}/append-login`, body);
    assert.equal(wrongTarget.status, 400);
    assert.equal(wrongTarget.body.field, 'deliveryTargetId');
    const noRefresh = await sys.api('PUT', `/api/accounts/${owner.id}/append-login`, {
      ...body,
      oauth: { provider: 'google', clientId: 'id' },
    });
    assert.equal(noRefresh.status, 400);
    assert.equal(noRefresh.body.field, 'oauth.refreshToken');
    const missing = await sys.api('PUT', '/api/accounts/00000000-0000-4000-8000-000000000000/append-login', body);
    assert.equal(missing.status, 404);
    assert.equal((await sys.api('GET', `/api/accounts/${owner.id}/append-login`)).status, 404);
    const oauthTarget = await sys.api('POST', '/api/delivery-targets', {
      name: 'oauth with a user',
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      imapLogin: 'oauth',
      username: 'someone',
    });
    assert.equal(oauthTarget.status, 400);
    assert.equal(oauthTarget.body.field, 'username');
  });
});
