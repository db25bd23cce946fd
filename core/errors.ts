/**
 * Every failure mailpull knows how to name, classified once: whether retrying can help.
 * Activities turn these into Temporal ApplicationFailures (type = kind); the workflow and the
 * status read the kind back.
 */
export const ERROR_KINDS = [
  'auth', // the remote server refused the credentials
  'reauth', // the OAuth2 provider revoked the refresh token (invalid_grant): an admin must set a new one
  'tls', // certificate or handshake refused; retrying won't change the certificate
  'config', // the account's settings cannot work (e.g. STLS offered but disabled)
  'gone', // the external account was deleted while we worked
  'inactive', // the account, its owner or the owner's domain is disabled
  'permanent', // the server refused for good (POP3 [SYS/PERM], IMAP NOPERM/CONTACTADMIN, BAD)
  'network', // connection refused, reset or dropped
  'timeout', // the server stopped answering
  'protocol', // the server answered something we did not expect
  'busy', // not now: another session holds the account, or the server says so (IN-USE, SYS/TEMP, UNAVAILABLE)
  'database', // Postgres is restarting, unreachable or out of resources, or a transaction must be retried
  'throttled', // the provider asks mailpull to wait (a daily download limit, a throttling answer): not a failure, nothing retried before then
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

// 'throttled' is not retried within the cycle: the provider said when to come back, and the cycle ends until then.
const PERMANENT: ReadonlySet<ErrorKind> = new Set(['auth', 'reauth', 'tls', 'config', 'gone', 'inactive', 'permanent', 'throttled']);

/** The remote message an error is about, so failures can be counted per message. */
export interface MessageErrorRef {
  folder: string;
  uidvalidity: string;
  uid: string;
}

export class MailpullError extends Error {
  readonly ref?: MessageErrorRef;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; ref?: MessageErrorRef },
  ) {
    super(message, options);
    this.name = `MailpullError(${kind})`;
    if (options?.ref) this.ref = { folder: options.ref.folder, uidvalidity: options.ref.uidvalidity, uid: options.ref.uid };
  }
}

/** A server at the other end of a connection: a mail server, a delivery target. */
export interface Peer {
  /** pop3, imap, lmtp, smtp */
  protocol: string;
  host: string;
  port: number;
}

/** host:port as an admin types it, an IPv6 address in brackets. */
export const peerAddress = (peer: Peer): string => `${peer.host.includes(':') ? `[${peer.host}]` : peer.host}:${peer.port}`;

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10);

/**
 * A peer that accepted the connection and then sent nothing for a whole idle timeout, at a named
 * step: the greeting, or after a command (its verb; never its arguments, which may be
 * credentials). Retried like any timeout; its message tells the admin where it stopped.
 */
export class PeerSilenceError extends MailpullError {
  constructor(
    readonly peer: Peer,
    readonly step: string,
    readonly idleMs: number,
    /** what the admin may change, when the silence has a likely cause */
    hint?: string,
  ) {
    const where = `the ${peer.protocol} server ${peerAddress(peer)}`;
    const what =
      step === 'greeting'
        ? `${where} accepted the connection and then sent no greeting for ${seconds(idleMs)} s`
        : `${where} sent nothing for ${seconds(idleMs)} s after ${step}`;
    super('timeout', hint ? `${what}; ${hint}` : what);
  }
}

export const isRetryable = (kind: ErrorKind): boolean => !PERMANENT.has(kind);

/** The provider asked to wait: nothing is collected from the account before `until`. */
export class ThrottledError extends MailpullError {
  constructor(
    readonly until: Date,
    message: string,
  ) {
    super('throttled', message);
  }
}

const DAY_MS = 24 * 60 * 60_000;

/** The longest wait a throttling answer can impose; a larger suggestion is a server's mistake. */
const MAX_SUGGESTED_BACKOFF_MS = DAY_MS;

/** The first run of at most 10 digits after `from` in `text`, or null. */
function numberAfter(text: string, from: number): number | null {
  let i = from;
  while (i < text.length && text.charCodeAt(i) === 0x20) i++;
  let end = i;
  while (end < text.length && end - i < 10 && text.charCodeAt(end) >= 0x30 && text.charCodeAt(end) <= 0x39) end++;
  return end > i ? Number(text.slice(i, end)) : null;
}

/**
 * A provider's "not now" in a server answer, with when to come back, or null. Gmail's daily
 * download limit ("Account exceeded bandwidth limits", or the response code OVERQUOTA while
 * collecting) lifts within a day: mailpull waits until the same time tomorrow. Microsoft's
 * "Request is throttled. Suggested Backoff Time: N milliseconds" is waited out for N ms.
 * `text` is the server's answer (at most its first 300 characters are read).
 */
export function providerBackoff(text: string, responseCode: string | null, now: Date): ThrottledError | null {
  const said = text.slice(0, 300);
  const lower = said.toLowerCase();
  const at = (ms: number): Date => new Date(now.getTime() + ms);
  const marker = 'suggested backoff time:';
  const suggested = lower.indexOf(marker);
  if (lower.includes('request is throttled') || suggested !== -1) {
    const ms = suggested === -1 ? null : numberAfter(said, suggested + marker.length);
    const wait = Math.min(Math.max(ms ?? 60_000, 1_000), MAX_SUGGESTED_BACKOFF_MS);
    const until = at(wait);
    return new ThrottledError(
      until,
      `the server throttles this mailbox ("${said}"); mailpull waits as it asks and collects again after ${until.toISOString()} (this is not a failure)`,
    );
  }
  if (
    lower.includes('exceeded bandwidth limits') ||
    lower.includes('exceeded command or bandwidth limits') ||
    responseCode?.toUpperCase() === 'OVERQUOTA'
  ) {
    const until = at(DAY_MS);
    return new ThrottledError(
      until,
      `the mailbox reached its provider's daily download limit ("${said}"); mailpull pauses this account and collects again after ${until.toISOString()}. Nothing is lost: the mail stays on the server until then`,
    );
  }
  return null;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/;

/** pg's own messages when the server goes away under a client (no code set). */
const PG_CONNECTION_LOST = ['Connection terminated unexpectedly', 'Connection terminated', 'terminating connection'];

/**
 * SQLSTATEs after which the same statement can succeed later: connection exceptions (class 08),
 * the server shutting down or starting (57P01-57P03), insufficient resources (class 53),
 * serialization failures and deadlocks.
 */
export function isTransientSqlState(state: string): boolean {
  if (state.length !== 5) return false;
  const cls = state.slice(0, 2);
  return (
    cls === '08' || cls === '53' || state === '57P01' || state === '57P02' || state === '57P03' || state === '40001' || state === '40P01'
  );
}

const isSqlState = (code: string): boolean => {
  if (code.length !== 5) return false;
  for (let i = 0; i < 5; i++) {
    const c = code.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a))) return false;
  }
  return true;
};

/** Maps anything thrown to a kind and a message safe to show (no credentials are ever in it). */
export function classifyError(err: unknown): { kind: ErrorKind; message: string; retryable: boolean } {
  if (err instanceof MailpullError) {
    return { kind: err.kind, message: err.message, retryable: isRetryable(err.kind) };
  }
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = err instanceof Error ? err.message : String(err);
  let kind: ErrorKind = 'internal';
  if (NETWORK_CODES.has(code)) kind = 'network';
  else if (code === 'ETIMEDOUT') kind = 'timeout';
  else if (TLS_CODE.test(code)) kind = 'tls';
  else if (isSqlState(code) && isTransientSqlState(code)) kind = 'database';
  else if (code === '' && PG_CONNECTION_LOST.some((m) => message.startsWith(m))) kind = 'network';
  return { kind, message: code && !message.includes(code) ? `${code}: ${message}` : message, retryable: isRetryable(kind) };
}

/** The error, typed, naming the message it happened with (kind and message unchanged). */
export function withRef(err: unknown, ref: MessageErrorRef): MailpullError {
  // a provider's "wait" is about the mailbox, never the message being fetched
  if ((err instanceof MailpullError && err.ref) || err instanceof ThrottledError) return err;
  const { kind, message } = classifyError(err);
  return new MailpullError(kind, message, { cause: err, ref });
}

/**
 * The worker or the API cannot reach Temporal with its settings (address, TLS, API key): its
 * message says why in an admin's words and names the setting to change. A process stops on it.
 */
export class TemporalConnectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporalConnectionError';
  }
}
