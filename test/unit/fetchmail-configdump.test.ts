import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseFetchmailrc } from '../../cli/import/fetchmailrc';
import { fromFetchmailrc } from '../../cli/import/from-fetchmail';
import type { ExternalAccountDraft } from '../../cli/import/plan';
import { defaultPort } from '../../core/tls-decision';
import { fetchmailReading, type DumpedServer, type DumpedUser } from '../support/fetchmail-dump';

const fixture = (name: string): string => readFileSync(path.resolve(__dirname, '../../../test/fixtures/rc', name), 'utf8');
const SERVICES: Record<string, number> = { pop3: 110, pop3s: 995, imap: 143, imaps: 993 };

/**
 * What fetchmail 6.4 guarantees for one user of a server entry, from its own reading of the file:
 * the TLS rule is its starttls.c (maybe_starttls, must_starttls) and "ssl" is implicit TLS.
 */
function guarantee(server: DumpedServer, user: DumpedUser) {
  const protocol = server.protocol === 'IMAP' ? 'imap' : 'pop3';
  let tls: ExternalAccountDraft['tlsMode'];
  if (user.ssl) tls = 'direct';
  else if (user.sslproto === '') tls = 'disabled';
  else if (user.sslcertck || user.sslfingerprint !== null || user.sslproto !== null) tls = 'starttls';
  else tls = 'detect';
  const named = server.service === null ? undefined : (SERVICES[server.service] ?? Number(server.service));
  return {
    enabled: server.active,
    host: server.via ?? server.pollname,
    port: named ?? defaultPort(protocol, user.ssl ? 'direct' : 'starttls'),
    protocol,
    username: user.remote,
    tls,
    certificateChecked: user.sslcertck || user.sslfingerprint !== null,
    keep: user.keep,
  };
}

const planned = (a: ExternalAccountDraft): ReturnType<typeof guarantee> => ({
  enabled: a.enabled,
  host: a.host,
  port: a.port ?? defaultPort(a.protocol, a.tlsMode),
  protocol: a.protocol,
  username: a.username,
  tls: a.tlsMode,
  certificateChecked: !a.allowInvalidCertificates,
  keep: a.deletePolicy === 'never',
});

describe('the import plan matches fetchmail --configdump (Debian fetchmail 6.4) on the same file', () => {
  for (const file of ['fetchmailrc-tls', 'fetchmailrc-tls-defaults', 'fetchmailrc-household']) {
    test(`${file}: host, port, protocol, user, TLS guarantee, certificate check, keep, password`, async () => {
      const text = fixture(file);
      const reading = await fetchmailReading(text);
      const expected = reading.flatMap((server) => server.users.map((user) => ({ server, user })));
      const plan = fromFetchmailrc(parseFetchmailrc(text), 'owner@home.example');
      assert.equal(plan.entries.length, expected.length, 'one entry per user of each server entry');
      for (const [i, { server, user }] of expected.entries()) {
        const { account, source } = plan.entries[i];
        assert.deepEqual(planned(account), guarantee(server, user), source);
        assert.equal(account.password ?? null, user.password, `${source}: password`);
      }
    });
  }

  test('the TLS keywords cover every mode, so each rule above is exercised', async () => {
    const modes = (await fetchmailReading(fixture('fetchmailrc-tls'))).flatMap((s) => s.users.map((u) => guarantee(s, u).tls));
    assert.deepEqual([...new Set(modes)].sort(), ['detect', 'direct', 'disabled', 'starttls']);
  });
});
