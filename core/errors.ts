import type { MessageRef } from './download-plan';
/**
 * Every failure mailpull knows how to name, classified once: whether retrying can help.
 * Activities turn these into Temporal ApplicationFailures (type = kind); the workflow and the
 * status read the kind back.
 */
export type ErrorKind =
  | 'auth' // the remote server refused the credentials
  | 'reauth' // the OAuth2 provider revoked the refresh token (invalid_grant): an admin must set a new one
  | 'tls' // certificate or handshake refused; retrying won't change the certificate
  | 'config' // the account's settings cannot work (e.g. STLS offered but disabled)
  | 'gone' // the external account was deleted while we worked
  | 'inactive' // the account, its owner or the owner's domain is disabled
  | 'network' // connection refused, reset or dropped
  | 'timeout' // the server stopped answering
  | 'protocol' // the server answered something we did not expect
  | 'busy' // another session holds the account (should never last)
  | 'database' // the database is restarting, unreachable or out of connections
  | 'internal';

const PERMANENT: ReadonlySet<ErrorKind> = new Set(['auth', 'reauth', 'tls', 'config', 'gone', 'inactive']);

export class MailpullError extends Error {
  /** the remote message being handled when this happened, if any */
  readonly ref?: MessageRef;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown; ref?: MessageRef },
  ) {
    super(message, options);
    this.name = `MailpullError(${kind})`;
    this.ref = options?.ref;
  }
}

export const isRetryable = (kind: ErrorKind): boolean => !PERMANENT.has(kind);

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
  return { kind, message: code && !message.includes(code) ? `${code}: ${message}` : message, retryable: isRetryable(kind) };
}
