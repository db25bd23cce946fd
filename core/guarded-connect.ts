import { lookup as dnsLookup } from 'node:dns/promises';
import { realpath } from 'node:fs/promises';
import net from 'node:net';
import { MailpullError } from './errors';
import { decideAddress, decideSocketPath, refusalMessage, type NetworkPolicy } from './network-policy';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address of a name, as the system resolver (getaddrinfo, /etc/hosts included) gives them. */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** The host of a URL as a resolver takes it (an IPv6 literal without its brackets). */
export const urlHost = (url: URL): string => (url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname);

/**
 * A host whose every address the policy allows. Connections keep the host name (TLS servername
 * and certificate checks use it) and take the addresses from `lookup`.
 */
export interface CheckedHost {
  /**
   * For net.connect/tls.connect (and libraries that pass their options on): hands out the checked
   * addresses and never resolves again, so a second DNS answer cannot lead anywhere else.
   */
  lookup: net.LookupFunction;
}

function fixedLookup(addresses: readonly ResolvedAddress[]): net.LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const offered = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : [...addresses];
    process.nextTick(() => {
      if (offered.length === 0) {
        callback(Object.assign(new Error(`no IPv${family} address of ${hostname} passed the check`), { code: 'ENOTFOUND' }), '', 0);
      } else if (options.all) callback(null, offered);
      else callback(null, offered[0].address, offered[0].family);
    });
  };
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MailpullError('timeout', `${what} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The address the policy refuses first among a host's addresses, with the message to show; null if it allows them all. */
function refusedAddress(policy: NetworkPolicy, host: string, addresses: readonly ResolvedAddress[]): string | null {
  for (const { address } of addresses) {
    const decision = decideAddress(policy, address);
    if (!decision.allowed) return refusalMessage(host, address, decision.reason);
  }
  return null;
}

/**
 * Resolves a host (an IP literal is its own address) and checks every address against the
 * policy: one refused address refuses the host, so a name cannot pass with a mix of answers.
 * A refusal is a `config` error; a failed lookup is thrown as the resolver reports it.
 */
export async function checkHost(
  host: string,
  policy: NetworkPolicy,
  options: { timeoutMs: number; resolve?: Resolver },
): Promise<CheckedHost> {
  const family = net.isIP(host);
  const addresses =
    family !== 0
      ? [{ address: host, family }]
      : await withTimeout((options.resolve ?? systemResolver)(host), options.timeoutMs, `resolving ${host}`);
  if (addresses.length === 0) throw new MailpullError('network', `${host} has no address`);
  const refused = refusedAddress(policy, host, addresses);
  if (refused) throw new MailpullError('config', refused);
  return { lookup: fixedLookup(addresses) };
}

/** Longest wait for the resolver when the API judges a host. */
const SCREEN_TIMEOUT_MS = 5_000;

/**
 * What the API says about a host at creation: the refusal message, or null when the policy allows
 * it or the name does not resolve (yet, or not within SCREEN_TIMEOUT_MS): the worker checks again
 * at each connection.
 */
export async function screenHost(host: string, policy: NetworkPolicy): Promise<string | null> {
  try {
    await checkHost(host, policy, { timeoutMs: SCREEN_TIMEOUT_MS });
    return null;
  } catch (err) {
    return err instanceof MailpullError && err.kind === 'config' ? err.message : null;
  }
}

/**
 * Checks a unix socket path against the allowed directories, on the path as given and on the
 * path with every symbolic link resolved, so a link inside an allowed directory cannot point out.
 */
export async function checkSocketPath(socketPath: string, policy: NetworkPolicy): Promise<void> {
  const given = decideSocketPath(policy, socketPath);
  if (!given.allowed) throw new MailpullError('config', `outbound connection refused by the network policy: ${given.reason}`);
  const real = await realpath(socketPath).catch(() => socketPath);
  const dirs = await Promise.all(policy.allowedSocketDirs.map((dir) => realpath(dir).catch(() => dir)));
  const resolved = decideSocketPath({ ...policy, allowedSocketDirs: dirs }, real);
  if (!resolved.allowed) {
    throw new MailpullError(
      'config',
      `outbound connection refused by the network policy: ${socketPath} leads to ${real}; ${resolved.reason}`,
    );
  }
}

/**
 * A plain TCP connection to a checked host, or to an allowed unix socket, once it is connected;
 * for libraries that take a ready socket (nodemailer's getSocket).
 */
export async function connectChecked(
  to: { host: string; port: number } | { socketPath: string },
  policy: NetworkPolicy,
  timeoutMs: number,
): Promise<net.Socket> {
  let socket: net.Socket;
  if ('socketPath' in to) {
    await checkSocketPath(to.socketPath, policy);
    socket = net.connect(to.socketPath);
  } else {
    const checked = await checkHost(to.host, policy, { timeoutMs });
    socket = net.connect({ host: to.host, port: to.port, lookup: checked.lookup });
  }
  return new Promise<net.Socket>((resolve, reject) => {
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    const expired = (): void => fail(Object.assign(new Error(`connecting took longer than ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    socket.setTimeout(timeoutMs);
    socket.once('timeout', expired);
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('timeout', expired);
      socket.removeListener('error', fail);
      // until the library that takes the socket listens itself, an error must not end the process
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}
