import path from 'node:path';

/**
 * Which addresses the worker may connect to for an account or a delivery target. Every address
 * is held as 16 bytes, an IPv4 address as its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one
 * comparison serves both families and a mapped address is judged as the IPv4 address it is.
 */
export interface Cidr {
  /** as configured, for messages */
  readonly text: string;
  readonly bytes: Uint8Array;
  /** over the 128 bits (an IPv4 /8 is 104) */
  readonly prefix: number;
}

export interface NetworkPolicy {
  /** networks where the ranges refused by default are allowed (MAILPULL_ALLOWED_NETWORKS) */
  readonly allowedNetworks: readonly Cidr[];
  /** normalised absolute directories whose unix sockets may be used (MAILPULL_ALLOWED_SOCKET_DIRS) */
  readonly allowedSocketDirs: readonly string[];
}

export type Decision = { allowed: true } | { allowed: false; reason: string };

const MAX_ADDRESS_TEXT = 64;

/** Dotted-quad IPv4 (four decimal octets, no leading zeros, which some parsers read as octal). */
function parseIpv4(text: string): number[] | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const octets: number[] = [];
  for (const part of parts) {
    if (part.length === 0 || part.length > 3 || (part.length > 1 && part.charCodeAt(0) === 0x30)) return null;
    let value = 0;
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return null;
      value = value * 10 + (c - 0x30);
    }
    if (value > 255) return null;
    octets.push(value);
  }
  return octets;
}

const hexValue = (c: number): number => {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
};

/** 16-bit groups of one side of "::"; a dotted IPv4 tail only where `dottedTail` allows it. */
function groupsOf(text: string, dottedTail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const words: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (dottedTail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (part.length === 0 || part.length > 4) return null;
    let value = 0;
    for (let k = 0; k < part.length; k++) {
      const digit = hexValue(part.charCodeAt(k));
      if (digit < 0) return null;
      value = (value << 4) | digit;
    }
    words.push(value);
  }
  return words;
}

/** RFC 4291 text form: up to eight groups, one "::" at most, an optional dotted IPv4 tail; no zone. */
function parseIpv6(text: string): Uint8Array | null {
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return null;
  const head = groupsOf(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : groupsOf(text.slice(gap + 2), true);
  if (!head || !tail) return null;
  const count = head.length + tail.length;
  if (gap === -1 ? count !== 8 : count > 7) return null;
  const words = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

const mapped = (v4: readonly number[]): Uint8Array => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);

/** An IPv4 or IPv6 address as 16 bytes (IPv4 mapped), or null if the text is neither. */
export function parseIp(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > MAX_ADDRESS_TEXT) return null;
  if (text.includes(':')) return parseIpv6(text);
  const v4 = parseIpv4(text);
  return v4 ? mapped(v4) : null;
}

const isMappedV4 = (b: Uint8Array): boolean => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** The address as written by convention: dotted for IPv4 (mapped or not), else RFC 5952 hex groups. */
export function formatIp(b: Uint8Array): string {
  if (isMappedV4(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (from: number, to: number): string =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  return bestStart === -1 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

function inCidr(b: Uint8Array, cidr: Cidr): boolean {
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (b[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (b[whole] & mask) === (cidr.bytes[whole] & mask);
}

/** "10.0.0.0/8", "fd00::/8", or a single address (/32, /128); null with the reason if it is none of them. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  if (slash !== text.lastIndexOf('/')) return 'has more than one "/"';
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(addressText);
  if (!bytes) return `"${addressText}" is not an IPv4 or IPv6 address`;
  const v4 = !addressText.includes(':');
  const width = v4 ? 32 : 128;
  let prefix = width;
  if (slash !== -1) {
    const digits = text.slice(slash + 1);
    if (digits.length === 0 || digits.length > 3 || (digits.length > 1 && digits.charCodeAt(0) === 0x30)) {
      return `the prefix length "${digits}" is not a number from 0 to ${width}`;
    }
    prefix = 0;
    for (let i = 0; i < digits.length; i++) {
      const c = digits.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return `the prefix length "${digits}" is not a number from 0 to ${width}`;
      prefix = prefix * 10 + (c - 0x30);
    }
    if (prefix > width) return `the prefix length ${prefix} is larger than ${width}`;
  }
  const cidr: Cidr = { text, bytes, prefix: v4 ? prefix + 96 : prefix };
  const network = new Uint8Array(16);
  network.set(bytes.slice(0, cidr.prefix >> 3));
  if (cidr.prefix & 7) network[cidr.prefix >> 3] = bytes[cidr.prefix >> 3] & ((0xff << (8 - (cidr.prefix & 7))) & 0xff);
  if (!network.every((x, i) => x === bytes[i])) return `has bits set after the prefix; the network is ${formatIp(network)}/${prefix}`;
  return cidr;
}

const range = (text: string, what: string): { cidr: Cidr; what: string } => {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new Error(`${text}: ${cidr}`);
  return { cidr, what };
};

/**
 * Refused whatever MAILPULL_ALLOWED_NETWORKS says: instance metadata services hand out cloud
 * credentials, and nothing mailpull talks to lives on a link-local address. The metadata
 * addresses come first so that a refusal names them.
 */
const ALWAYS_REFUSED = [
  range('169.254.169.254', 'a cloud metadata address (AWS, Google Cloud, Azure, OpenStack)'),
  range('fd00:ec2::254', 'a cloud metadata address (AWS, IPv6)'),
  range('100.100.100.200', 'a cloud metadata address (Alibaba Cloud)'),
  range('168.63.129.16', 'a cloud platform address (Azure WireServer)'),
  range('169.254.0.0/16', 'link-local'),
  range('fe80::/10', 'link-local'),
];

/** Refused unless MAILPULL_ALLOWED_NETWORKS holds the address. */
const INTERNAL = [
  range('127.0.0.0/8', 'loopback'),
  range('::1', 'loopback'),
  range('0.0.0.0/8', 'unspecified ("this network")'),
  range('::', 'unspecified'),
  range('10.0.0.0/8', 'private'),
  range('172.16.0.0/12', 'private'),
  range('192.168.0.0/16', 'private'),
  range('100.64.0.0/10', 'shared address space (carrier-grade NAT)'),
  range('fc00::/7', 'unique local (private)'),
  range('fec0::/10', 'site-local (private)'),
  range('224.0.0.0/4', 'multicast'),
  range('ff00::/8', 'multicast'),
  range('240.0.0.0/4', 'reserved (or broadcast)'),
];

const NAT64 = range('64:ff9b::/96', 'NAT64').cidr;
const V4_COMPATIBLE = range('::/96', 'IPv4-compatible').cidr;

/**
 * The IPv4 address an IPv6 address leads to, when it embeds one: NAT64 (64:ff9b::/96) and the
 * deprecated IPv4-compatible form (::a.b.c.d). IPv4-mapped addresses are IPv4 already here.
 */
function embeddedV4(b: Uint8Array): Uint8Array | null {
  if (isMappedV4(b)) return null;
  // :: and ::1 are the IPv6 unspecified and loopback addresses, not IPv4-compatible ones
  const compatible = inCidr(b, V4_COMPATIBLE) && ((b[12] | b[13] | b[14]) !== 0 || b[15] > 1);
  return inCidr(b, NAT64) || compatible ? mapped([...b.slice(12)]) : null;
}

const ALLOW_HINT = 'refused unless MAILPULL_ALLOWED_NETWORKS includes it';

/**
 * Whether the worker may connect to this address (as a resolver returns it: IPv4, IPv6, a zone
 * suffix ignored). An address that leads to an embedded IPv4 address is judged as that one too.
 */
export function decideAddress(policy: NetworkPolicy, address: string): Decision {
  const zone = address.indexOf('%');
  const bytes = parseIp(zone === -1 ? address : address.slice(0, zone));
  if (!bytes) return { allowed: false, reason: `"${address.slice(0, MAX_ADDRESS_TEXT)}" is not an IP address` };
  const inner = embeddedV4(bytes);
  const forms = inner ? [bytes, inner] : [bytes];
  const via = inner ? ` (it leads to ${formatIp(inner)})` : '';
  for (const form of forms) {
    const hit = ALWAYS_REFUSED.find((r) => inCidr(form, r.cidr));
    if (hit) return { allowed: false, reason: `${hit.what} (${hit.cidr.text})${via}, always refused` };
  }
  if (forms.some((form) => policy.allowedNetworks.some((n) => inCidr(form, n)))) return { allowed: true };
  for (const form of forms) {
    const hit = INTERNAL.find((r) => inCidr(form, r.cidr));
    if (hit) return { allowed: false, reason: `${hit.what} (${hit.cidr.text})${via}, ${ALLOW_HINT}` };
  }
  return { allowed: true };
}

/** The sentence a refused connection carries: the host as configured, the address and the rule. */
export function refusalMessage(host: string, address: string, reason: string): string {
  const what = host === address ? `${host} is` : `${host} resolves to ${address}, which is`;
  return `outbound connection refused by the network policy: ${what} ${reason}`;
}

const normalisedDir = (dir: string): string => {
  const normal = path.posix.normalize(dir);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
};

/** Whether a unix socket path lies inside one of the allowed directories (judged on the normalised path). */
export function decideSocketPath(policy: NetworkPolicy, socketPath: string): Decision {
  if (!socketPath.startsWith('/')) return { allowed: false, reason: `${socketPath} is not an absolute path` };
  const normal = path.posix.normalize(socketPath);
  if (policy.allowedSocketDirs.some((dir) => normal.startsWith(dir === '/' ? '/' : `${dir}/`))) return { allowed: true };
  const allowed = policy.allowedSocketDirs.length ? policy.allowedSocketDirs.join(', ') : 'none';
  return {
    allowed: false,
    reason: `unix socket ${socketPath} is outside the directories MAILPULL_ALLOWED_SOCKET_DIRS allows (${allowed})`,
  };
}

const entries = (text: string | undefined): string[] =>
  (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');

/**
 * The policy from its two settings, comma-separated; an entry that is not a CIDR or not an
 * absolute directory is an error naming the variable and the entry.
 */
export function parseNetworkPolicy(settings: { allowedNetworks?: string; allowedSocketDirs?: string }): NetworkPolicy {
  const allowedNetworks = entries(settings.allowedNetworks).map((entry) => {
    const cidr = parseCidr(entry);
    if (typeof cidr === 'string') throw new Error(`MAILPULL_ALLOWED_NETWORKS: "${entry}" is not a CIDR network: ${cidr}`);
    return cidr;
  });
  const allowedSocketDirs = entries(settings.allowedSocketDirs).map((entry) => {
    if (!entry.startsWith('/')) throw new Error(`MAILPULL_ALLOWED_SOCKET_DIRS: "${entry}" is not an absolute directory`);
    return normalisedDir(entry);
  });
  return { allowedNetworks, allowedSocketDirs };
}
