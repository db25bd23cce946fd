import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseFetchmailrc, tokenize } from '../../cli/import/fetchmailrc';
import { fromFetchmailrc } from '../../cli/import/from-fetchmail';
import { fromGetmailrc } from '../../cli/import/from-getmail';
import { parseGetmailrc, pythonStrings } from '../../cli/import/getmailrc';
import { RcSyntaxError, type ImportEntry } from '../../cli/import/plan';

const fixture = (name: string): string => readFileSync(path.resolve(__dirname, '../../../test/fixtures/rc', name), 'utf8');
const OWNER = 'owner@home.example';
const options = (e: ImportEntry): string[] => e.unsupported.map((u) => u.option);

describe('.fetchmailrc import', () => {
  const plan = fromFetchmailrc(parseFetchmailrc(fixture('fetchmailrc-household')), OWNER);
  const [alice, bob, carol, family] = plan.entries;

  test('one external account per user of each poll and skip entry; defaults are not accounts', () => {
    assert.deepEqual(
      plan.entries.map((e) => e.account.name),
      ['alice.smith@pop.isp.example', 'bob@work.example@mail gateway', 'carol@pop.old.example', 'family@mx.family.example'],
    );
    assert.ok(plan.entries.every((e) => e.problem === null));
  });

  test('server, protocol, port, user, password with escapes, ssl, keep, limit, daemon interval', () => {
    assert.deepEqual(alice.account, {
      name: 'alice.smith@pop.isp.example',
      enabled: true,
      protocol: 'pop3',
      host: 'pop.isp.example',
      port: 995,
      tlsMode: 'direct',
      allowInvalidCertificates: false,
      authMethod: 'password',
      username: 'alice.smith',
      password: 's3cr3t "quoted" pass\\word',
      folders: { mode: 'inbox' },
      push: false,
      intervalMinutes: 5,
      maxMessageBytes: 2_000_000,
      deletePolicy: 'never',
    });
    assert.deepEqual(alice.owners, ['alice@home.example', OWNER], '"is alice here": alice at the owner\'s domain first');
  });

  test('via, protocol IMAP, service imaps, quoted folders, sslcertfile, nokeep by default', () => {
    assert.equal(bob.account.host, 'imap.work.example', 'via names the host contacted');
    assert.equal(bob.account.protocol, 'imap');
    assert.equal(bob.account.port, 993);
    assert.equal(bob.account.password, 'pa ss');
    assert.deepEqual(bob.account.folders, { mode: 'list', names: ['INBOX', 'Lists/Announcements'] });
    assert.equal(bob.account.push, false);
    assert.equal(bob.tlsCaFile, '/etc/ssl/work ca.pem');
    assert.equal(bob.account.deletePolicy, 'immediately', "fetchmail's default is nokeep");
    assert.deepEqual(
      options(bob),
      ['mda "/usr/bin/procmail -d %T"', 'smtphost localhost', 'fetchlimit 50'],
      'sslproto TLS1.2+ matches mailpull',
    );
  });

  test('skip becomes a disabled account; apop; hex and decimal escapes; an address as local name', () => {
    assert.equal(carol.account.enabled, false);
    assert.equal(carol.account.authMethod, 'apop');
    assert.equal(carol.account.protocol, 'pop3');
    assert.equal(carol.account.password, 'xAAy');
    assert.deepEqual(carol.owners, ['carol@home.example', OWNER]);
  });

  test('multidrop (is * here) reads recipients from headers, the envelope header first; no sslcertck and empty sslproto', () => {
    assert.deepEqual(family.owners, [OWNER]);
    assert.deepEqual(family.account.mimeRecipients?.headers?.[0], 'X-Original-To');
    assert.equal(family.account.mimeRecipients?.enabled, true);
    assert.equal(family.account.allowInvalidCertificates, true, 'no sslcertck overrides the defaults');
    assert.equal(family.account.tlsMode, 'disabled', 'sslproto "" turns STARTTLS off');
  });

  test('every option without an equivalent is listed with the entry it belongs to, the "set" lines once', () => {
    for (const entry of plan.entries)
      assert.ok(options(entry).includes('mda "/usr/bin/procmail -d %T"'), `${entry.source}: mda from defaults`);
    assert.deepEqual(
      plan.global.map((g) => g.option),
      ['set logfile /var/log/fetchmail.log', 'set postmaster root', 'set no bouncemail'],
    );
    assert.ok(plan.global.every((g) => g.reason.length > 0));
  });

  test('entries that cannot become accounts say why; the rest of the file still imports', () => {
    const broken = fromFetchmailrc(parseFetchmailrc(fixture('fetchmailrc-broken-entries')), OWNER).entries;
    assert.match(broken[0].problem ?? '', /no password/);
    assert.match(broken[1].problem ?? '', /protocol kpop is not supported/);
    assert.equal(broken[2].problem, null);
    assert.equal(broken[2].account.protocol, 'imap');
    assert.deepEqual(broken[2].account.folders, { mode: 'inbox' });
    assert.deepEqual(options(broken[2]), ['auth cram-md5', 'sslcertpath /etc/ssl/certs', 'flush', 'protocol auto']);
  });

  test('"user X here is Y there", "to", "username", comments and noise words', () => {
    const rc = parseFetchmailrc(`# comment
poll pop.a.example protocol pop3: # trailing comment
  user jsmith here is "j.smith" there, with password 'p#1' ; and wants options keep
  username other to other@b.example`);
    assert.equal(rc.polls[0].users[0].remote, 'j.smith');
    assert.deepEqual(rc.polls[0].users[0].locals, ['jsmith']);
    assert.deepEqual(
      rc.polls[0].users[0].options.map((o) => [o.name, o.args]),
      [
        ['password', ['p#1']],
        ['keep', []],
      ],
    );
    assert.deepEqual(rc.polls[0].users[1].locals, ['other@b.example']);
  });

  test('syntax errors name the line', () => {
    assert.throws(
      () => parseFetchmailrc('poll a.example\n  user x password'),
      (e: unknown) => e instanceof RcSyntaxError && e.line === 2,
    );
    assert.throws(() => parseFetchmailrc('POLL a.example user x password y'), /line 1: .*outside a poll entry/, 'keywords are lower case');
    assert.throws(() => parseFetchmailrc('poll a.example\n\n  frobnicate'), /line 3: unknown keyword "frobnicate"/);
    assert.throws(() => parseFetchmailrc('user x'), /line 1: .*outside a poll entry/);
  });

  test("words and strings as fetchmail's lexer reads them", () => {
    const words = (text: string): string[] => tokenize(text).map((t) => t.text);
    assert.deepEqual(words('password p#1 x"y\'z'), ['password', 'p#1', 'x"y\'z'], "'#' and quotes inside a word are part of it");
    assert.deepEqual(words('"a b"c d'), ['a b', 'c', 'd'], 'a string longer than the word at the same quote wins');
    assert.deepEqual(words('"abc"def "x"'), ['"abc"def', 'x'], 'a word longer than the string at the same quote wins');
    assert.deepEqual(words('"a\\"b"'), ['"a"b"'], 'no escaped quote: the string "a\\" is shorter than the word, whose \\" is a quote');
    assert.deepEqual(words('"open'), ['"open'], 'an unclosed quote is part of a word');
    assert.deepEqual(words('"\\101\\x41\\0101\\q\\n"'), ['eA\b1q\n'], 'decimal, hex, octal after a 0, any character');
    assert.deepEqual(words('"a\\x00b" c\\0d'), ['a', 'c'], 'a NUL ends the string');
    assert.deepEqual(words('pa\\ss "multi\nline" "x\\\ny"'), ['pass', 'multi\nline', 'xy']);
    assert.deepEqual(words('a\\\n b \\\r\n c # note \\\n d'), ['a', 'b', 'c', 'd'], 'a backslash before a line break continues the line');
    assert.deepEqual(
      tokenize('poll a \\\n\\\n proto "x\ny" \\\n keep').map((t) => t.line),
      [1, 1, 3, 3, 5],
      'continued and multi-line tokens keep their line numbers',
    );
    const rc = parseFetchmailrc("poll a.example proto POP3 user keep password 'x' folder Keep is here");
    assert.equal(rc.polls[0].users[0].remote, 'keep', 'after "user" any word is the name');
    assert.deepEqual(
      rc.polls[0].users[0].options.map((o) => [o.name, o.args]),
      [
        ['password', ['x']],
        ['folder', ['Keep']],
      ],
      'keywords are lower case: "Keep" is a folder',
    );
    assert.deepEqual(rc.polls[0].users[0].locals, ['here'], 'after "is" the first word is a name');
  });

  test('fetchmail\'s TLS guarantee kept: STARTTLS required unless "no sslcertck" alone', () => {
    const tls = (options: string): [string, boolean] => {
      const { account } = fromFetchmailrc(parseFetchmailrc(`poll h proto pop3 user u password p ${options}`), OWNER).entries[0];
      return [account.tlsMode, account.allowInvalidCertificates];
    };
    assert.deepEqual(tls(''), ['starttls', false], 'sslcertck is the default since fetchmail 6.4.0');
    assert.deepEqual(tls('sslcertck'), ['starttls', false]);
    assert.deepEqual(tls("sslproto 'auto' no sslcertck"), ['starttls', true]);
    assert.deepEqual(tls('sslproto tls1.2+ no sslcertck'), ['starttls', true]);
    assert.deepEqual(tls('no sslcertck sslfingerprint "AB:CD"'), ['starttls', false], 'a pinned certificate is still checked');
    assert.deepEqual(tls('no sslcertck'), ['detect', true]);
    assert.deepEqual(tls('sslproto "" sslcertck'), ['disabled', false]);
    assert.deepEqual(tls('ssl sslproto ""'), ['direct', false], 'an empty sslproto with ssl is "auto"');
    assert.deepEqual(tls('ssl no sslcertck'), ['direct', true]);
  });

  test('tokenizing is linear: 64 times the input takes far less than 64² times as long', () => {
    const unit = 'poll a.example user "u\\"x" password \'p\' is a here keep # c\n';
    // the best of 5 runs: one run stalled by a busy machine must not decide
    const time = (n: number): number => {
      const text = unit.repeat(n);
      let best = Infinity;
      for (let round = 0; round < 5; round++) {
        const start = process.hrtime.bigint();
        tokenize(text);
        best = Math.min(best, Number(process.hrtime.bigint() - start));
      }
      return best;
    };
    time(200);
    const ratio = time(12_800) / time(200);
    assert.ok(ratio < 64 * 8, `growth ${ratio.toFixed(1)} for 64 times the input`);
  });
});

describe('getmailrc import', () => {
  test('SimplePOP3SSLRetriever, port, spaces in the password, delete = true; destination and logging listed', () => {
    const [entry] = fromGetmailrc(parseGetmailrc(fixture('getmailrc-pop3ssl')), OWNER, 'getmailrc-pop3ssl').entries;
    assert.equal(entry.problem, null);
    assert.equal(entry.account.protocol, 'pop3');
    assert.equal(entry.account.tlsMode, 'direct');
    assert.equal(entry.account.port, 995);
    assert.equal(entry.account.password, 'a pass with spaces');
    assert.equal(entry.account.deletePolicy, 'immediately');
    assert.deepEqual(entry.owners, [OWNER]);
    assert.deepEqual(options(entry), ['verbose = 0', 'message_log = ~/.getmail/log', '[destination] type=Maildir path=~/Maildir/']);
  });

  test('SimpleIMAPSSLRetriever: mailboxes tuple over lines, ca_certs, delete_after, max_message_size with ":"', () => {
    const [entry] = fromGetmailrc(parseGetmailrc(fixture('getmailrc-imap')), OWNER, 'getmailrc-imap').entries;
    assert.equal(entry.account.protocol, 'imap');
    assert.deepEqual(entry.account.folders, { mode: 'list', names: ['INBOX', 'Lists.dev', 'Archive 2024'] });
    assert.equal(entry.tlsCaFile, '/etc/ssl/work-ca.pem');
    assert.deepEqual(entry.account.deletePolicy, { afterDays: 14 });
    assert.equal(entry.account.maxMessageBytes, 5_000_000);
    assert.deepEqual(options(entry), [
      "ssl_fingerprints = ('abc',)",
      'read_all = true',
      '[destination] type=MDA_external path=/usr/bin/procmail',
      '[filter-1]',
    ]);
  });

  test('multidrop with envelope_recipient; password_command cannot be carried over, so the entry says why', () => {
    const [entry] = fromGetmailrc(parseGetmailrc(fixture('getmailrc-multidrop')), OWNER, 'getmailrc-multidrop').entries;
    assert.deepEqual(entry.account.mimeRecipients?.headers?.[0], 'delivered-to');
    assert.match(entry.problem ?? '', /no password/);
    assert.ok(options(entry).some((o) => o.startsWith('password_command')));
  });

  test('plain retrievers use STARTTLS when offered; an unknown retriever type is a problem, not a guess', () => {
    const plain = fromGetmailrc(
      parseGetmailrc('[retriever]\ntype = SimpleIMAPRetriever\nserver = h.example\nusername = u\npassword = p\nmailboxes = ALL\n'),
      OWNER,
      'f',
    );
    assert.equal(plain.entries[0].account.tlsMode, 'detect');
    assert.deepEqual(plain.entries[0].account.folders, { mode: 'all', exclude: [] });
    assert.deepEqual(plain.entries[0].account.deletePolicy, 'never', "getmail's default keeps messages");
    const spds = fromGetmailrc(
      parseGetmailrc('[retriever]\ntype = SimpleSPDSRetriever\nserver = h\nusername = u\npassword = p\n'),
      OWNER,
      'f',
    );
    assert.match(spds.entries[0].problem ?? '', /SimpleSPDSRetriever.*not supported/);
  });

  test("getmail's TLS guarantee kept: SSL retrievers are implicit TLS with the certificate checked, whatever pins or versions they add", () => {
    const plan = fromGetmailrc(
      parseGetmailrc(
        '[retriever]\ntype = SimplePOP3SSLRetriever\nserver = h\nusername = u\npassword = p\nssl_fingerprints = ("ab:cd",)\nssl_version = tlsv1_3\nssl_cert_hostname = other.example\n',
      ),
      OWNER,
      'f',
    ).entries[0];
    assert.equal(plan.account.tlsMode, 'direct');
    assert.equal(plan.account.allowInvalidCertificates, false);
    assert.deepEqual(options(plan), ['ssl_fingerprints = ("ab:cd",)', 'ssl_version = tlsv1_3', 'ssl_cert_hostname = other.example']);
  });

  test('python string tuples and INI errors', () => {
    assert.deepEqual(pythonStrings(`("a", 'b c',)`), ['a', 'b c']);
    assert.deepEqual(pythonStrings('INBOX'), ['INBOX']);
    assert.equal(pythonStrings('("open'), null);
    assert.throws(() => parseGetmailrc('server = x\n'), /line 1: a setting before the first \[section\]/);
    assert.throws(() => parseGetmailrc('[retriever\n'), /line 1/);
  });
});
