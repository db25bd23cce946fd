import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CONFIG_VARIABLES, loadConfig } from '../../core/config';
import type { MailpullError } from '../../core/errors';
import { decideAddress, decideSocketPath, formatIp, parseCidr, parseIp, parseNetworkPolicy, type Cidr } from '../../core/network-policy';
import { checkHost, checkSocketPath, type Resolver } from '../../core/guarded-connect';

const none = parseNetworkPolicy({});
const allowing = (allowedNetworks: string) => parseNetworkPolicy({ allowedNetworks });
const hex = (b: Uint8Array | null): string | null => (b ? Buffer.from(b).toString('hex') : null);

function refusal(policy: ReturnType<typeof parseNetworkPolicy>, address: string): string {
  const decision = decideAddress(policy, address);
  assert.equal(decision.allowed, false, `${address} is refused`);
  return decision.allowed ? '' : decision.reason;
}

describe('IP addresses', () => {
  test('IPv4 is held as its IPv4-mapped IPv6 form; IPv6 compression and a dotted tail are read', () => {
    assert.equal(hex(parseIp('127.0.0.1')), '00000000000000000000ffff7f000001');
    assert.equal(hex(parseIp('::ffff:127.0.0.1')), hex(parseIp('127.0.0.1')));
    assert.equal(hex(parseIp('::FFFF:7f00:1')), hex(parseIp('127.0.0.1')));
    assert.equal(hex(parseIp('::')), '0'.repeat(32));
    assert.equal(hex(parseIp('::1')), `${'0'.repeat(31)}1`);
    assert.equal(hex(parseIp('fe80::1')), 'fe800000000000000000000000000001');
    assert.equal(hex(parseIp('1:2:3:4:5:6:7::')), '00010002000300040005000600070000');
    assert.equal(hex(parseIp('::2:3:4:5:6:7:8')), '00000002000300040005000600070008');
    assert.equal(hex(parseIp('2001:db8:0:0:1:0:0:1')), hex(parseIp('2001:db8::1:0:0:1')));
    assert.equal(hex(parseIp('1:2:3:4:5:6:1.2.3.4')), '00010002000300040005000601020304');
  });

  test('malformed addresses are refused, octal-looking IPv4 and zones included', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '256.1.1.1',
      '1.2.3.-1',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'g::1',
      '1.2.3.4::',
      '::1.2.3',
      ':1',
      '1:',
      'fe80::1%eth0',
      '[::1]',
      'localhost',
      '0x7f.0.0.1',
    ]) {
      assert.equal(parseIp(bad), null, `${JSON.stringify(bad)} is not an address`);
    }
  });

  test('parsing agrees with node:net on any string of address characters, and formatting round-trips', () => {
    const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 45 }), (s) => {
        assert.equal(parseIp(s) !== null, net.isIP(s) !== 0, s);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (s) => {
        const bytes = parseIp(s);
        assert.ok(bytes, s);
        assert.equal(hex(parseIp(formatIp(bytes))), hex(bytes), s);
        assert.ok(net.isIP(formatIp(bytes)) !== 0);
      }),
      { numRuns: 2000 },
    );
  });

  test('formatting: dotted IPv4 for mapped addresses, the longest zero run compressed', () => {
    assert.equal(formatIp(parseIp('::ffff:10.0.0.1') as Uint8Array), '10.0.0.1');
    assert.equal(formatIp(parseIp('2001:db8:0:0:1:0:0:1') as Uint8Array), '2001:db8::1:0:0:1');
    assert.equal(formatIp(parseIp('0:0:0:0:0:0:0:0') as Uint8Array), '::');
    assert.equal(formatIp(parseIp('fe80:0:0:0:0:0:0:1') as Uint8Array), 'fe80::1');
  });
});

describe('CIDR networks', () => {
  test('IPv4 and IPv6 networks and single addresses', () => {
    const v4 = parseCidr('10.0.0.0/8') as Cidr;
    assert.equal(v4.prefix, 104);
    assert.equal((parseCidr('::ffff:10.0.0.0/104') as Cidr).prefix, 104);
    assert.equal((parseCidr('fe80::/10') as Cidr).prefix, 10);
    assert.equal((parseCidr('192.0.2.7') as Cidr).prefix, 128);
    assert.equal((parseCidr('::1') as Cidr).prefix, 128);
    assert.equal((parseCidr('0.0.0.0/0') as Cidr).prefix, 96);
    assert.equal((parseCidr('::/0') as Cidr).prefix, 0);
  });

  test('malformed networks are refused with the reason', () => {
    const reasons: [string, RegExp][] = [
      ['10.0.0.0/33', /larger than 32/],
      ['::/129', /larger than 128/],
      ['10.0.0.0/', /not a number/],
      ['10.0.0.0/08', /not a number/],
      ['10.0.0.0/8a', /not a number/],
      ['10.0.0.0/-1', /not a number/],
      ['10.0.0.0/8/8', /more than one/],
      ['/8', /not an IPv4 or IPv6 address/],
      ['localhost/8', /not an IPv4 or IPv6 address/],
      ['10.0.0/8', /not an IPv4 or IPv6 address/],
      ['10.1.0.0/8', /bits set after the prefix; the network is 10\.0\.0\.0\/8/],
      ['fe80::1/10', /the network is fe80::\/10/],
    ];
    for (const [text, reason] of reasons) {
      const parsed = parseCidr(text);
      assert.equal(typeof parsed, 'string', `${text} is refused`);
      assert.match(parsed as string, reason, text);
    }
  });
});

describe('the address decision', () => {
  test('link-local and cloud metadata addresses are refused whatever is allowed', () => {
    const everything = allowing('0.0.0.0/0,::/0');
    for (const policy of [none, everything]) {
      assert.match(refusal(policy, '169.254.169.254'), /cloud metadata address .*\(169\.254\.169\.254\), always refused/);
      assert.match(refusal(policy, '::ffff:169.254.169.254'), /cloud metadata/);
      assert.match(refusal(policy, '::ffff:a9fe:a9fe'), /cloud metadata/);
      assert.match(refusal(policy, 'fd00:ec2::254'), /cloud metadata address \(AWS, IPv6\)/);
      assert.match(refusal(policy, '100.100.100.200'), /Alibaba/);
      assert.match(refusal(policy, '168.63.129.16'), /Azure WireServer/);
      assert.match(refusal(policy, '169.254.170.2'), /link-local \(169\.254\.0\.0\/16\), always refused/);
      assert.match(refusal(policy, 'fe80::1'), /link-local \(fe80::\/10\)/);
      assert.match(refusal(policy, 'fe80::1%eth0'), /link-local/);
      assert.match(refusal(policy, 'febf::1'), /link-local/);
      assert.match(refusal(policy, '64:ff9b::a9fe:a9fe'), /cloud metadata .*leads to 169\.254\.169\.254/);
    }
    assert.match(refusal(allowing('169.254.0.0/16,fd00::/8,100.64.0.0/10'), '169.254.169.254'), /always refused/);
    assert.match(refusal(allowing('fd00::/8'), 'fd00:ec2::254'), /always refused/);
    assert.match(refusal(allowing('100.64.0.0/10'), '100.100.100.200'), /always refused/);
  });

  test('loopback, private, CGNAT, unspecified, multicast and reserved addresses are refused by default, in every form', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /loopback \(127\.0\.0\.0\/8\), refused unless MAILPULL_ALLOWED_NETWORKS includes it/],
      ['127.255.255.254', /loopback/],
      ['::1', /loopback \(::1\)/],
      ['::ffff:127.0.0.1', /loopback \(127\.0\.0\.0\/8\)/],
      ['0:0:0:0:0:ffff:7f00:1', /loopback/],
      ['::7f00:1', /loopback .*leads to 127\.0\.0\.1/],
      ['64:ff9b::127.0.0.1', /loopback .*leads to 127\.0\.0\.1/],
      ['10.255.255.1', /private \(10\.0\.0\.0\/8\)/],
      ['172.16.0.1', /private \(172\.16\.0\.0\/12\)/],
      ['172.31.255.255', /private/],
      ['192.168.1.1', /private \(192\.168\.0\.0\/16\)/],
      ['::ffff:192.168.1.1', /private/],
      ['100.64.0.1', /carrier-grade NAT/],
      ['100.127.255.255', /carrier-grade NAT/],
      ['fc00::1', /unique local/],
      ['fd12:3456::1', /unique local/],
      ['fec0::1', /site-local/],
      ['0.0.0.0', /unspecified/],
      ['0.1.2.3', /unspecified/],
      ['::', /unspecified/],
      ['::ffff:0.0.0.0', /unspecified/],
      ['224.0.0.1', /multicast/],
      ['239.255.255.250', /multicast/],
      ['ff02::1', /multicast/],
      ['255.255.255.255', /reserved/],
      ['240.0.0.1', /reserved/],
    ];
    for (const [address, reason] of cases) assert.match(refusal(none, address), reason, address);
  });

  test('public addresses are allowed, next to the private ranges too', () => {
    for (const address of [
      '8.8.8.8',
      '1.1.1.1',
      '172.15.255.255',
      '172.32.0.1',
      '100.63.255.255',
      '100.128.0.1',
      '11.0.0.1',
      '192.169.0.1',
      '169.253.255.255',
      '169.255.0.1',
      '2001:4860:4860::8888',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      'fbff::1',
      'fe00::1',
      '2a00::1',
    ]) {
      assert.deepEqual(decideAddress(none, address), { allowed: true }, address);
    }
  });

  test('MAILPULL_ALLOWED_NETWORKS allows exactly what it lists, IPv4-mapped forms included', () => {
    const loopback = allowing('127.0.0.0/8,::1');
    for (const address of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '64:ff9b::7f00:1']) {
      assert.deepEqual(decideAddress(loopback, address), { allowed: true }, address);
    }
    assert.match(refusal(loopback, '10.0.0.1'), /private/);
    assert.match(refusal(loopback, '0.0.0.0'), /unspecified/);
    const one = allowing('10.255.255.0/24');
    assert.deepEqual(decideAddress(one, '10.255.255.1'), { allowed: true });
    assert.match(refusal(one, '10.255.254.1'), /private/);
    assert.match(refusal(one, '127.0.0.1'), /loopback/);
    const single = allowing('127.0.0.1');
    assert.deepEqual(decideAddress(single, '127.0.0.1'), { allowed: true });
    assert.match(refusal(single, '127.0.0.2'), /loopback/);
    assert.deepEqual(decideAddress(allowing('::ffff:10.0.0.0/104'), '10.1.2.3'), { allowed: true });
    assert.deepEqual(decideAddress(allowing('fd00::/8'), 'fd12::1'), { allowed: true });
    assert.match(refusal(allowing('fd00::/8'), 'fc00::1'), /unique local/);
  });

  test('a text that is no address is refused', () => {
    assert.match(refusal(allowing('0.0.0.0/0,::/0'), 'localhost'), /is not an IP address/);
    assert.match(refusal(none, ''), /is not an IP address/);
  });
});

describe('unix socket directories', () => {
  const dovecot = parseNetworkPolicy({ allowedSocketDirs: '/run/dovecot/' });

  test('none are allowed by default', () => {
    const decision = decideSocketPath(none, '/run/dovecot/lmtp');
    assert.equal(decision.allowed, false);
    assert.match(decision.allowed ? '' : decision.reason, /outside the directories MAILPULL_ALLOWED_SOCKET_DIRS allows \(none\)/);
  });

  test('a socket inside an allowed directory, judged on the normalised path', () => {
    assert.deepEqual(decideSocketPath(dovecot, '/run/dovecot/lmtp'), { allowed: true });
    assert.deepEqual(decideSocketPath(dovecot, '/run/dovecot//sub/./lmtp'), { allowed: true });
    for (const refused of [
      '/run/dovecot/../postgresql/.s.PGSQL.5432',
      '/run/dovecotx/lmtp',
      '/run/dovecot',
      '/var/run/docker.sock',
      'run/dovecot/lmtp',
    ]) {
      assert.equal(decideSocketPath(dovecot, refused).allowed, false, refused);
    }
    assert.deepEqual(decideSocketPath(parseNetworkPolicy({ allowedSocketDirs: '/' }), '/anything/at/all'), { allowed: true });
  });

  test('a symbolic link inside an allowed directory that points outside is refused', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'mailpull-sockets-'));
    try {
      await mkdir(path.join(root, 'allowed'));
      await mkdir(path.join(root, 'other'));
      await writeFile(path.join(root, 'other', 'socket'), '');
      await writeFile(path.join(root, 'allowed', 'socket'), '');
      await symlink(path.join(root, 'other', 'socket'), path.join(root, 'allowed', 'link'));
      const policy = parseNetworkPolicy({ allowedSocketDirs: path.join(root, 'allowed') });
      await checkSocketPath(path.join(root, 'allowed', 'socket'), policy);
      await assert.rejects(checkSocketPath(path.join(root, 'allowed', 'link'), policy), (err: MailpullError) => {
        assert.equal(err.kind, 'config');
        assert.match(err.message, /leads to .*other\/socket; unix socket .* is outside/);
        return true;
      });
      await assert.rejects(checkSocketPath(path.join(root, 'other', 'socket'), policy), /outside the directories/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('the policy settings', () => {
  test('entries are comma-separated, trimmed, empty ones skipped', () => {
    const policy = parseNetworkPolicy({
      allowedNetworks: ' 127.0.0.0/8 , ::1,, ',
      allowedSocketDirs: '/run/dovecot/, /var/spool/postfix/private',
    });
    assert.deepEqual(
      policy.allowedNetworks.map((n) => n.text),
      ['127.0.0.0/8', '::1'],
    );
    assert.deepEqual(policy.allowedSocketDirs, ['/run/dovecot', '/var/spool/postfix/private']);
    assert.deepEqual(parseNetworkPolicy({ allowedNetworks: '' }).allowedNetworks, []);
  });

  test('a malformed entry stops the configuration with the variable, the entry and the reason', () => {
    const key = { MAILPULL_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'), DATABASE_URL: 'postgres://x' };
    assert.throws(
      () => loadConfig({ ...key, MAILPULL_ALLOWED_NETWORKS: '127.0.0.0/8,10.0.0.0/33' }),
      /MAILPULL_ALLOWED_NETWORKS: "10\.0\.0\.0\/33" is not a CIDR network: the prefix length 33 is larger than 32/,
    );
    assert.throws(() => loadConfig({ ...key, MAILPULL_ALLOWED_NETWORKS: 'localhost' }), /MAILPULL_ALLOWED_NETWORKS: "localhost"/);
    assert.throws(() => loadConfig({ ...key, MAILPULL_ALLOWED_NETWORKS: '10.1.0.0/8' }), /the network is 10\.0\.0\.0\/8/);
    assert.throws(
      () => loadConfig({ ...key, MAILPULL_ALLOWED_SOCKET_DIRS: 'run/dovecot' }),
      /MAILPULL_ALLOWED_SOCKET_DIRS: "run\/dovecot" is not an absolute directory/,
    );
    const config = loadConfig({ ...key });
    assert.deepEqual(config.networkPolicy, { allowedNetworks: [], allowedSocketDirs: [] });
    assert.ok(CONFIG_VARIABLES.includes('MAILPULL_ALLOWED_NETWORKS') && CONFIG_VARIABLES.includes('MAILPULL_ALLOWED_SOCKET_DIRS'));
  });
});

describe('checkHost: resolve, check every address, connect only to those', () => {
  const resolver =
    (answers: Record<string, { address: string; family: number }[]>): Resolver =>
    (host) =>
      Promise.resolve(answers[host] ?? []);

  test('one refused address among the answers refuses the name, naming host, address and rule', async () => {
    const resolve = resolver({
      'mixed.example': [
        { address: '203.0.113.5', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    await assert.rejects(checkHost('mixed.example', none, { timeoutMs: 1000, resolve }), (err: MailpullError) => {
      assert.equal(err.kind, 'config');
      assert.equal(
        err.message,
        'outbound connection refused by the network policy: mixed.example resolves to 127.0.0.1, which is loopback (127.0.0.0/8), refused unless MAILPULL_ALLOWED_NETWORKS includes it',
      );
      return true;
    });
    await assert.rejects(
      checkHost('169.254.169.254', none, { timeoutMs: 1000, resolve }),
      /169\.254\.169\.254 is a cloud metadata address/,
    );
  });

  test('the lookup it hands out gives the checked addresses only, by family, and never resolves again', async () => {
    let resolutions = 0;
    const answers = [
      { address: '2001:db8::25', family: 6 },
      { address: '203.0.113.25', family: 4 },
    ];
    const checked = await checkHost('mx.example', none, {
      timeoutMs: 1000,
      resolve: (host) => {
        resolutions++;
        return resolver({ 'mx.example': answers })(host);
      },
    });
    const ask = (options: object) =>
      new Promise<unknown[]>((resolve, reject) =>
        checked.lookup('mx.example', options, (err, address, family) => (err ? reject(err) : resolve([address, family]))),
      );
    assert.deepEqual(await ask({ all: true }), [answers, undefined]);
    assert.deepEqual(await ask({}), ['2001:db8::25', 6]);
    assert.deepEqual(await ask({ family: 4 }), ['203.0.113.25', 4]);
    assert.deepEqual(await ask({ family: 'IPv6', all: true }), [[answers[0]], undefined]);
    assert.equal(resolutions, 1);
  });

  test('a name without an answer in time is a timeout, not a refusal', async () => {
    const never: Resolver = () => new Promise(() => undefined);
    await assert.rejects(
      checkHost('slow.example', none, { timeoutMs: 50, resolve: never }),
      (err: MailpullError) => err.kind === 'timeout',
    );
  });
});
