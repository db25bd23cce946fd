import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withProviderPreset } from '../../api/provider-presets';
import { ApiError } from '../../api/http-errors';
import { nextAttemptAt, outcomeOfAppendFailure } from '../../core/delivery-outcome';
import { classifyError, providerBackoff, ThrottledError, withRef } from '../../core/errors';
import { selectFolders, type RemoteFolder } from '../../core/folder-selection';
import { OAUTH_PRESETS } from '../../core/oauth';
import {
  CYCLE_IMAP_CONNECTIONS,
  DEFAULT_WATCHED_FOLDERS,
  PROVIDER_NAMES,
  PROVIDERS,
  providerForHost,
  watchedFolderLimit,
} from '../../core/providers';
import { initialStatus, noteCycleFailed, noteRemoved, pushModeFor, startRun } from '../../core/account-status-reducer';

const NOW = new Date('2026-12-07T06:00:00Z');
const DAY = 24 * 60 * 60_000;

describe('provider presets', () => {
  test('every preset has TLS from the first byte on the usual ports, and OAuth2 presets name a known token endpoint', () => {
    for (const name of PROVIDER_NAMES) {
      const p = PROVIDERS[name];
      assert.equal(p.name, name);
      assert.deepEqual([p.imap.port, p.imap.tlsMode], [993, 'direct'], name);
      if (p.pop3) assert.deepEqual([p.pop3.port, p.pop3.tlsMode], [995, 'direct'], name);
      assert.equal(p.authMethod === 'xoauth2', p.oauthProvider !== null, name);
      if (p.oauthProvider) assert.ok(OAUTH_PRESETS[p.oauthProvider].tokenEndpoint.startsWith('https://'), name);
      assert.deepEqual([...p.excludeFolders], ['\\Junk', '\\Trash'], `${name}: spam and trash are not collected`);
    }
    assert.equal(PROVIDERS.gmail.imap.host, 'imap.gmail.com');
    assert.equal(PROVIDERS.microsoft.authMethod, 'xoauth2', 'Microsoft 365 accepts only OAuth2');
    assert.equal(PROVIDERS.icloud.pop3, null, 'iCloud has no POP3');
    assert.deepEqual(PROVIDERS.gmail.scopes, ['https://mail.google.com/']);
  });

  test('a hand-typed host of a provider is known by it, whatever its case', () => {
    assert.equal(providerForHost('IMAP.Gmail.com')?.name, 'gmail');
    assert.equal(providerForHost('pop.gmx.net')?.name, 'gmx');
    assert.equal(providerForHost('outlook.office365.com.')?.name, 'microsoft');
    assert.equal(providerForHost('mail.example.com'), null);
  });

  test("the IDLE watches and a cycle's session fit in the provider's connection limit together", () => {
    for (const name of PROVIDER_NAMES) {
      const p = PROVIDERS[name];
      const watches = watchedFolderLimit(p);
      assert.ok(watches >= 1);
      if (p.maxImapConnections !== null) assert.ok(watches + CYCLE_IMAP_CONNECTIONS <= p.maxImapConnections, name);
    }
    assert.ok(watchedFolderLimit(PROVIDERS.gmail) + CYCLE_IMAP_CONNECTIONS <= 15, 'Gmail: 15 per user');
    assert.equal(watchedFolderLimit({ ...PROVIDERS.gmail, maxImapConnections: 5 }), 4);
    assert.equal(watchedFolderLimit(null), DEFAULT_WATCHED_FOLDERS);
  });
});

describe('"provider" on create', () => {
  const owner = { ownerAccountId: '00000000-0000-4000-8000-000000000001', name: 'x', username: 'u@gmail.com' };

  test('fills server, TLS, auth method, OAuth2 provider and the folders left out; fields given win', () => {
    const filled = withProviderPreset({
      ...owner,
      provider: 'gmail',
      oauth: { clientId: 'c', refreshToken: 'r' },
      folders: { mode: 'all' },
    }) as Record<string, unknown>;
    assert.deepEqual(
      [filled.protocol, filled.host, filled.port, filled.tlsMode, filled.authMethod],
      ['imap', 'imap.gmail.com', 993, 'direct', 'xoauth2'],
    );
    assert.deepEqual(filled.oauth, { provider: 'google', clientId: 'c', refreshToken: 'r' });
    assert.deepEqual(filled.folders, { mode: 'all', exclude: ['\\Junk', '\\Trash'] });

    const given = withProviderPreset({
      ...owner,
      provider: 'gmail',
      protocol: 'pop3',
      authMethod: 'password',
      password: 'app-password',
      folders: { mode: 'all', exclude: [] },
    }) as Record<string, unknown>;
    assert.deepEqual([given.host, given.port, given.authMethod], ['pop.gmail.com', 995, 'password']);
    assert.deepEqual(given.folders, { mode: 'all', exclude: [] }, 'an explicit exclude list stays as given');
  });

  test('an unknown provider or a protocol it does not offer is a 400 naming the field', () => {
    const fieldOf = (body: unknown): string | undefined => {
      try {
        withProviderPreset(body);
      } catch (err) {
        assert.ok(err instanceof ApiError);
        assert.equal(err.status, 400);
        return err.body.field;
      }
      return undefined;
    };
    assert.equal(fieldOf({ ...owner, provider: 'hotmail.example' }), 'provider');
    assert.equal(fieldOf({ ...owner, provider: 7 }), 'provider');
    assert.equal(fieldOf({ ...owner, provider: 'icloud', protocol: 'pop3' }), 'protocol');
    assert.deepEqual(withProviderPreset({ ...owner }), { ...owner }, 'no provider: untouched');
  });
});

describe('folder mode "all" and virtual folders', () => {
  const folder = (path: string, specialUse: string | null, flags: string[] = []): RemoteFolder => ({
    path,
    delimiter: '/',
    flags: ['\\HasNoChildren', ...flags],
    specialUse,
  });
  const gmail = [
    folder('INBOX', null),
    folder('Work', null),
    folder('[Gmail]', null, ['\\Noselect']),
    folder('[Gmail]/All Mail', '\\All'),
    folder('[Gmail]/Important', null, ['\\Important']),
    folder('[Gmail]/Starred', '\\Flagged'),
    folder('[Gmail]/Spam', '\\Junk'),
    folder('[Gmail]/Trash', '\\Trash'),
    folder('[Gmail]/Sent Mail', '\\Sent'),
  ];
  const paths = (r: { collect: RemoteFolder[] }): string[] => r.collect.map((f) => f.path);

  test('leaves out the folders holding copies (\\All, \\Important, \\Flagged), and the preset leaves out spam and trash', () => {
    assert.deepEqual(paths(selectFolders(gmail, { mode: 'all', exclude: [...PROVIDERS.gmail.excludeFolders] })), [
      'INBOX',
      'Work',
      '[Gmail]/Sent Mail',
    ]);
    assert.deepEqual(paths(selectFolders(gmail, { mode: 'all', exclude: [] })), [
      'INBOX',
      'Work',
      '[Gmail]/Spam',
      '[Gmail]/Trash',
      '[Gmail]/Sent Mail',
    ]);
  });

  test('a folder named in a list is collected, virtual or not', () => {
    assert.deepEqual(paths(selectFolders(gmail, { mode: 'list', names: ['[Gmail]/All Mail'] })), ['[Gmail]/All Mail']);
  });
});

describe("a provider's wait", () => {
  test("Gmail's bandwidth limit waits a day, by its words or by OVERQUOTA", () => {
    const byText = providerBackoff('Account exceeded bandwidth limits. (Failure)', null, NOW);
    assert.ok(byText instanceof ThrottledError);
    assert.equal(byText.until.getTime(), NOW.getTime() + DAY);
    assert.match(byText.message, /daily download limit.*2026-12-08T06:00:00\.000Z.*Nothing is lost/);
    assert.equal(providerBackoff('Quota exceeded', 'OVERQUOTA', NOW)?.until.getTime(), NOW.getTime() + DAY);
    assert.equal(classifyError(byText).kind, 'throttled');
    assert.equal(classifyError(byText).retryable, false, 'not retried within the cycle');
  });

  test("Microsoft's suggested backoff is waited out, bounded", () => {
    const ms = providerBackoff('Request is throttled. Suggested Backoff Time: 299720 milliseconds', null, NOW);
    assert.equal(ms?.until.getTime(), NOW.getTime() + 299_720);
    assert.match(ms?.message ?? '', /not a failure/);
    const huge = providerBackoff('Request is throttled. Suggested Backoff Time: 9999999999 milliseconds', null, NOW);
    assert.equal(huge?.until.getTime(), NOW.getTime() + DAY, 'at most a day');
    assert.equal(providerBackoff('Request is throttled.', null, NOW)?.until.getTime(), NOW.getTime() + 60_000, 'a minute without a number');
  });

  test('other answers are no wait, and a wait is never blamed on the message being fetched', () => {
    assert.equal(providerBackoff('Invalid credentials', 'AUTHENTICATIONFAILED', NOW), null);
    assert.equal(providerBackoff('', null, NOW), null);
    const wait = providerBackoff('Account exceeded bandwidth limits', null, NOW);
    assert.ok(wait);
    assert.equal(withRef(wait, { folder: 'INBOX', uidvalidity: '1', uid: '5' }).ref, undefined);
  });

  test('a deferred cycle is no failure: the status says until when, push pauses, and a completed cycle clears it', () => {
    const status = initialStatus('a');
    const run = startRun(NOW.toISOString());
    const message = 'the mailbox reached its daily download limit; collecting again after tomorrow';
    noteCycleFailed(status, run, { kind: 'throttled', message }, 60_000, NOW.toISOString());
    assert.equal(run.outcome, 'deferred');
    assert.deepEqual(status.providerWait, { message, at: NOW.toISOString() });
    assert.equal(status.lastError, null);
    assert.equal(status.counts.failedCycles, 0);
    status.lastRun = run;
    assert.equal(pushModeFor(status, true, true), 'paused');
    noteRemoved(status, startRun(NOW.toISOString()), 0);
    assert.equal(status.providerWait, null);
  });
});

describe('APPEND upload limits', () => {
  test('a quota answer holds the message until the limit lifts, and the next attempt waits for it', () => {
    const outcome = outcomeOfAppendFailure(
      { serverResponse: true, responseCode: undefined, text: 'NO Account exceeded bandwidth limits' },
      NOW,
    );
    assert.equal(outcome.status, 'temporary');
    assert.equal(nextAttemptAt([outcome], NOW.getTime(), 60_000).getTime(), NOW.getTime() + DAY);
    assert.equal(nextAttemptAt([{ status: 'temporary', response: 'later' }], NOW.getTime(), 60_000).getTime(), NOW.getTime() + 60_000);
    assert.equal(
      outcomeOfAppendFailure({ serverResponse: true, responseCode: undefined, text: 'NO message refused' }, NOW).status,
      'permanent',
    );
  });
});
