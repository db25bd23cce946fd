import { ImapFlow } from 'imapflow';
import net from 'node:net';
import tls from 'node:tls';
import { classifyError, MailpullError } from '../core/errors';
import type { TlsOutcome } from '../core/tls-decision';
import { redactCommand } from '../secrets/redact';
import type { SourceEndpoint } from './source';

export interface ImapConnectOptions {
  /** longest wait for the greeting and for any answer */
  timeoutMs: number;
  /** watcher connections IDLE on their own; collection connections never do */
  autoIdle?: { maxIdleMs: number };
}

/**
 * imapflow, except that in `detect` mode a STARTTLS the server offers but then refuses is an
 * error: imapflow would continue in plaintext, which a man in the middle can force.
 */
class StrictImapFlow extends ImapFlow {
  _failSTARTTLS(): false {
    if (this.capabilities.has('STARTTLS')) {
      throw new MailpullError('tls', 'the server offered STARTTLS but the upgrade failed; not continuing in plaintext');
    }
    return false;
  }
}

/** Maps imapflow's errors onto mailpull's kinds, with a message that says what to change. */
export function imapError(err: unknown, timeoutMs: number): MailpullError {
  if (err instanceof MailpullError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    authenticationFailed?: boolean;
    response?: string;
    code?: string;
    tlsFailed?: boolean;
    message?: string;
  };
  if (e.authenticationFailed) return new MailpullError('auth', `authentication failed${e.response ? `: ${e.response}` : ''}`);
  if (e.code === 'GREETING_TIMEOUT') {
    return new MailpullError(
      'timeout',
      `no IMAP greeting within ${timeoutMs / 1000} s; if this port expects TLS from the first byte (like 993), use tlsMode "direct"`,
    );
  }
  if (e.code === 'STARTTLS_INJECTION' || e.tlsFailed) return new MailpullError('tls', e.message ?? 'STARTTLS failed');
  if (e.code === 'ETIMEOUT' || e.code === 'CONNECT_TIMEOUT' || e.code === 'UPGRADE_TIMEOUT') {
    return new MailpullError('timeout', `the IMAP server stopped answering (${e.code})`);
  }
  if (e.code === 'NoConnection' || e.code?.startsWith('ClosedAfterConnect')) {
    return new MailpullError('network', e.message ?? 'the IMAP connection closed');
  }
  const classified = classifyError(err);
  const kind = classified.kind === 'internal' ? 'protocol' : classified.kind;
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

/** Connects and logs in; the caller owns the client. */
export async function connectImap(
  endpoint: SourceEndpoint,
  options: ImapConnectOptions,
): Promise<{ client: ImapFlow; tls: TlsOutcome }> {
  const direct = endpoint.tlsMode === 'direct';
  const client = new StrictImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: direct,
    doSTARTTLS: endpoint.tlsMode === 'disabled' ? false : undefined,
    servername: net.isIP(endpoint.host) ? undefined : endpoint.host,
    tls: {
      ca: endpoint.tlsCa ? [...tls.rootCertificates, endpoint.tlsCa] : undefined,
      rejectUnauthorized: !endpoint.allowInvalidCertificates,
    },
    auth:
      endpoint.authMethod === 'xoauth2'
        ? { user: endpoint.username, accessToken: endpoint.secret }
        : { user: endpoint.username, pass: endpoint.secret, authzid: endpoint.authzid },
    logger: endpoint.trace ? traceLogger(endpoint.trace) : false,
    disableBinary: true,
    disableCompression: false,
    greetingTimeout: options.timeoutMs,
    connectionTimeout: options.timeoutMs,
    socketTimeout: Math.max(options.timeoutMs, options.autoIdle ? options.autoIdle.maxIdleMs + 60_000 : 0),
    ...(options.autoIdle
      ? { autoIdleDelay: 100, maxIdleTime: options.autoIdle.maxIdleMs, missingIdleCommand: 'NOOP' as const }
      : { disableAutoIdle: true }),
    clientInfo: { name: 'mailpull' },
  });
  // Errors also arrive as events; without a listener an 'error' event would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    const error = imapError(err, options.timeoutMs);
    if (error.kind === 'timeout' && !direct) {
      throw new MailpullError(
        'timeout',
        `no IMAP greeting or answer within ${options.timeoutMs / 1000} s; if this port expects TLS from the first byte (like 993), use tlsMode "direct"`,
      );
    }
    throw error;
  }
  return { client, tls: client.secureConnection ? (direct ? 'implicit' : 'starttls') : 'plaintext' };
}
