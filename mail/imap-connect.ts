import { AuthenticationFailure, ImapFlow } from 'imapflow';
import net from 'node:net';
import { classifyError, MailpullError, PeerSilenceError, providerBackoff, type Peer } from '../core/errors';
import { imapRefusalKind } from '../core/protocol-codes';
import { decideUpgrade, STARTTLS_REFUSED, type TlsMode, type TlsOutcome } from '../core/tls-decision';
import { redactCommand } from '../secrets/redact';
import type { ConnectionSettings, Credentials } from '../core/mailbox-endpoint';
import type { NetworkPolicy } from '../core/network-policy';
import { checkHost } from '../core/guarded-connect';
import { secureContextFor } from './tls-context';

export interface ImapConnectOptions {
  /** longest wait for the greeting and for any answer */
  timeoutMs: number;
  /** which addresses the server may have; checked after resolving, before connecting */
  networkPolicy: NetworkPolicy;
  /** the largest literal accepted (a message piece); larger ones fail the connection */
  maxLiteralBytes?: number;
  /** watcher connections IDLE on their own; collection connections never do */
  autoIdle?: { maxIdleMs: number };
}

/**
 * imapflow, except that a STARTTLS the server offers but then refuses is an error (imapflow would
 * continue in plaintext, which a man in the middle can force), and so is a server without
 * STARTTLS when the mode requires it: imapflow calls this before it sends any login.
 */
class StrictImapFlow extends ImapFlow {
  /** the command whose answer is awaited (its name only: LOGIN's arguments are credentials) */
  step = 'greeting';

  constructor(
    options: ConstructorParameters<typeof ImapFlow>[0],
    private readonly tlsMode: TlsMode,
    readonly peer: Peer,
    /** the socket timeout: how long the server may stay silent */
    readonly idleMs: number,
  ) {
    super(options);
    // every command, imapflow's own (CAPABILITY, LOGIN, ID, ENABLE) included, goes through exec
    const self = this as unknown as { exec: ImapExec };
    const exec = self.exec.bind(this);
    self.exec = (command, ...rest) => {
      this.step = command;
      return exec(command, ...rest);
    };
  }

  _failSTARTTLS(): false {
    if (this.capabilities.has('STARTTLS')) {
      throw new MailpullError('tls', 'the server offered STARTTLS but the upgrade failed; not continuing in plaintext');
    }
    if (decideUpgrade(this.tlsMode, false) === 'refuse') throw new MailpullError('tls', STARTTLS_REFUSED);
    return false;
  }
}

type ImapExec = (command: string, ...rest: unknown[]) => Promise<unknown>;

/**
 * Connections given up because their server sent nothing for a whole socket timeout, with why:
 * imapflow only emits an 'error' then and leaves the command pending, so connectImap closes the
 * connection, and imapError reports the silence instead of the closed connection it causes.
 */
const silences = new WeakMap<ImapFlow, PeerSilenceError>();

/**
 * Why the connection was given up, if its server fell silent: imapflow answers some commands
 * (SEARCH, STORE, EXPUNGE) with false instead of an error once the connection is gone.
 */
export const silenceOf = (client: ImapFlow): PeerSilenceError | undefined => silences.get(client);

/** Bounds on what one server answer may make imapflow buffer. */
export const IMAP_MAX_LINE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_LITERAL_BYTES = 1024 * 1024;

interface ImapflowError {
  authenticationFailed?: boolean;
  response?: unknown;
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  code?: string;
  tlsFailed?: boolean;
  message?: string;
  /** ETHROTTLE: how long imapflow already waited of the server's suggested backoff */
  throttleWaited?: number;
}

const AUTH_SETUP_FAILURES: Record<string, string> = {
  'Login is disabled': 'the server disables LOGIN (LOGINDISABLED) and offers no SASL PLAIN/LOGIN; it probably wants TLS',
  'No matching authentication method': 'the server offers no authentication method mailpull can use',
};

/**
 * Maps imapflow's errors onto mailpull's kinds, with a message that says what to change. A NO or
 * BAD is classified by its RFC 5530 response code; imapflow marks *every* login failure with
 * `authenticationFailed`, a dropped connection and a timeout too, so that flag alone never makes
 * an auth failure.
 */
export function imapError(err: unknown, timeoutMs: number, client?: ImapFlow): MailpullError {
  const silence = client && silences.get(client);
  if (silence) return silence;
  if (err instanceof MailpullError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as ImapflowError;
  const duringLogin = e.authenticationFailed === true;
  const peer = client instanceof StrictImapFlow ? client.peer : null;
  if (e.code === 'GREETING_TIMEOUT') {
    return peer
      ? new PeerSilenceError(peer, 'greeting', timeoutMs)
      : new MailpullError('timeout', `no IMAP greeting within ${timeoutMs / 1000} s`);
  }
  if (e.code === 'STARTTLS_INJECTION' || e.tlsFailed) return new MailpullError('tls', e.message ?? 'STARTTLS failed');
  if (e.code === 'UPGRADE_TIMEOUT' && peer) return new PeerSilenceError(peer, 'STARTTLS (the TLS handshake)', timeoutMs);
  // while connecting and logging in, imapflow rejects connect() with the socket timeout itself
  if (e.code === 'ETIMEOUT' && client instanceof StrictImapFlow) return new PeerSilenceError(client.peer, client.step, client.idleMs);
  if (e.code === 'ETIMEOUT' || e.code === 'CONNECT_TIMEOUT' || e.code === 'UPGRADE_TIMEOUT') {
    return new MailpullError('timeout', `the IMAP server${peer ? ` ${peer.host}:${peer.port}` : ''} stopped answering (${e.code})`);
  }
  if (e.code === 'NoConnection' || e.code === 'EConnectionClosed' || e.code?.startsWith('ClosedAfterConnect')) {
    return new MailpullError('network', `${duringLogin ? 'during login: ' : ''}${e.message ?? 'the IMAP connection closed'}`);
  }
  if (e.code === 'ETHROTTLE') {
    // imapflow waited part of the suggested time already, holding the connection: the wait counts from the answer
    const answeredAt = new Date(Date.now() - (e.throttleWaited ?? 0));
    return providerBackoff(e.responseText ?? '', null, answeredAt) ?? new MailpullError('busy', 'the IMAP server throttles this client');
  }
  if (e.code === 'LiteralTooLarge' || e.code === 'LineTooLarge' || e.code === 'ResponseTooLarge') {
    return new MailpullError('protocol', `the IMAP server sent more than asked: ${e.message ?? e.code}`, { cause: err });
  }
  const said = e.responseText ?? (typeof e.response === 'string' ? e.response : '');
  const backoff =
    e.responseStatus || err instanceof AuthenticationFailure ? providerBackoff(said, e.serverResponseCode || null, new Date()) : null;
  if (backoff) return backoff;
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    const code = e.serverResponseCode || null;
    const kind = imapRefusalKind(e.responseStatus, code, duringLogin);
    const text = e.responseText ?? (typeof e.response === 'string' ? e.response : '');
    const what = kind === 'auth' ? 'authentication failed' : `the IMAP server answered ${e.responseStatus}`;
    return new MailpullError(kind, `${what}${code ? ` [${code}]` : ''}${text ? `: ${text.slice(0, 300)}` : ''}`, { cause: err });
  }
  if (err instanceof AuthenticationFailure) {
    const setup = AUTH_SETUP_FAILURES[err.message];
    if (setup) return new MailpullError('config', setup);
    // imapflow's own verdict after login, e.g. Exchange's "User is authenticated but not connected"
    const text = typeof e.response === 'string' ? `: ${e.response.slice(0, 300)}` : '';
    return new MailpullError('auth', `authentication failed${text}`);
  }
  const classified = classifyError(err);
  const kind = classified.kind === 'internal' ? (duringLogin ? 'network' : 'protocol') : classified.kind;
  return new MailpullError(kind, `IMAP: ${classified.message}`, { cause: err });
}

type LogEntry = { src?: string; msg?: string };

/** imapflow's log of the dialog as trace lines; imapflow already masks LOGIN/AUTHENTICATE arguments. */
function traceLogger(trace: (line: string) => void) {
  const line = (entry: LogEntry): void => {
    if (entry.src === 'c' && entry.msg) trace(`C: ${redactCommand(entry.msg)}`);
    else if (entry.src === 's' && entry.msg) trace(`S: ${entry.msg.slice(0, 300)}`);
  };
  const ignore = (): void => undefined;
  return { debug: line, info: ignore, warn: ignore, error: ignore, trace: ignore };
}

/** Connects and logs in, for collecting, watching or delivering by APPEND; the caller owns the client. */
export async function connectImap(
  endpoint: ConnectionSettings & Credentials,
  options: ImapConnectOptions,
): Promise<{ client: ImapFlow; tls: TlsOutcome }> {
  const direct = endpoint.tlsMode === 'direct';
  const checked = await checkHost(endpoint.host, options.networkPolicy, { timeoutMs: options.timeoutMs });
  const socketTimeout = Math.max(options.timeoutMs, options.autoIdle ? options.autoIdle.maxIdleMs + 60_000 : 0);
  const client = new StrictImapFlow(
    {
      host: endpoint.host,
      port: endpoint.port,
      secure: direct,
      doSTARTTLS: endpoint.tlsMode === 'disabled' ? false : undefined,
      servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
      tls: {
        // one context per CA set, shared by every connection that trusts it
        secureContext: secureContextFor(endpoint.tlsCa),
        rejectUnauthorized: !endpoint.allowInvalidCertificates,
        // imapflow passes these options to net/tls.connect: the socket goes to a checked address
        lookup: checked.lookup,
      },
      auth:
        endpoint.authMethod === 'xoauth2'
          ? { user: endpoint.username, accessToken: endpoint.secret }
          : { user: endpoint.username, pass: endpoint.secret, authzid: endpoint.authzid },
      logger: endpoint.trace ? traceLogger(endpoint.trace) : false,
      disableBinary: true,
      maxLineLength: IMAP_MAX_LINE_BYTES,
      maxLiteralSize: options.maxLiteralBytes ?? DEFAULT_MAX_LITERAL_BYTES,
      maxResponseSize: (options.maxLiteralBytes ?? DEFAULT_MAX_LITERAL_BYTES) + IMAP_MAX_LINE_BYTES,
      disableCompression: false,
      greetingTimeout: options.timeoutMs,
      connectionTimeout: options.timeoutMs,
      socketTimeout,
      ...(options.autoIdle
        ? { autoIdleDelay: 100, maxIdleTime: options.autoIdle.maxIdleMs, missingIdleCommand: 'NOOP' as const }
        : { disableAutoIdle: true }),
      clientInfo: { name: 'mailpull' },
    },
    endpoint.tlsMode,
    { protocol: 'IMAP', host: endpoint.host, port: endpoint.port },
    socketTimeout,
  );
  // Errors also arrive as events; without a listener an 'error' event would end the process. A
  // socket timeout outside IDLE is one: the connection is given up, and its commands fail.
  // connect() does not always settle once the connection is closed under it (a server silent
  // during login): logging in ends with the silence as soon as it is declared.
  let declareSilence: (silence: PeerSilenceError) => void = () => undefined;
  const silenced = new Promise<never>((_, reject) => (declareSilence = reject));
  silenced.catch(() => undefined);
  client.on('error', (err: unknown) => {
    if ((err as ImapflowError | null)?.code !== 'ETIMEOUT' || silences.has(client)) return;
    const silence = new PeerSilenceError(client.peer, client.step, socketTimeout);
    silences.set(client, silence);
    client.close();
    declareSilence(silence);
  });
  try {
    await Promise.race([client.connect(), silenced]);
  } catch (err) {
    client.close();
    const error = imapError(err, options.timeoutMs, client);
    if (error instanceof PeerSilenceError && error.step === 'greeting' && !direct) {
      throw new PeerSilenceError(
        error.peer,
        error.step,
        error.idleMs,
        'if this port expects TLS from the first byte (like 993), use tlsMode "direct"',
      );
    }
    throw error;
  }
  return { client, tls: client.secureConnection ? (direct ? 'implicit' : 'starttls') : 'plaintext' };
}
