import type { ErrorKind } from './errors';

/**
 * The response code at the start of a POP3 -ERR text (RFC 2449 §8: "[SYS/TEMP] ..."), upper-cased,
 * or null. A code is a run of letters, digits, '/' and '-' of at most 64 characters.
 */
export function pop3ResponseCode(text: string): string | null {
  if (text.charCodeAt(0) !== 0x5b) return null;
  const end = text.indexOf(']');
  if (end < 2 || end > 65) return null;
  for (let i = 1; i < end; i++) {
    const c = text.charCodeAt(i) | 0x20;
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2f || c === 0x2d;
    if (!ok) return null;
  }
  return text.slice(1, end).toUpperCase();
}

/**
 * What a POP3 -ERR means (RFC 2449 §8, RFC 3206). `duringLogin` is true for USER, PASS, APOP and
 * AUTH: most servers answer a wrong password with a bare -ERR, so that stays an auth failure.
 */
export function pop3RefusalKind(code: string | null, duringLogin: boolean): ErrorKind {
  switch (code) {
    case 'AUTH':
      return 'auth';
    case 'SYS/TEMP':
    case 'IN-USE':
    case 'LOGIN-DELAY':
      return 'busy';
    case 'SYS/PERM':
      return 'permanent';
    default:
      return duringLogin ? 'auth' : 'protocol';
  }
}

const IMAP_AUTH = new Set(['AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED', 'EXPIRED']);
const IMAP_TRANSIENT = new Set(['UNAVAILABLE', 'INUSE', 'LIMIT', 'SERVERBUG', 'OVERQUOTA']);
const IMAP_PERMANENT = new Set([
  'CONTACTADMIN',
  'NOPERM',
  'CANNOT',
  'NONEXISTENT',
  'ALREADYEXISTS',
  'CLIENTBUG',
  'EXPUNGEISSUED',
  'CORRUPTION',
]);

/**
 * What a tagged IMAP NO or BAD means (RFC 5530 response codes). A BAD is always permanent: the
 * server did not understand the command, and sending it again will not change that. A NO to
 * LOGIN/AUTHENTICATE without a known code is taken as refused credentials, the usual meaning.
 */
export function imapRefusalKind(status: 'NO' | 'BAD', code: string | null, duringLogin: boolean): ErrorKind {
  const c = code?.toUpperCase() ?? null;
  if (c === 'PRIVACYREQUIRED') return 'tls';
  if (c !== null && IMAP_TRANSIENT.has(c)) return 'busy';
  if (status === 'BAD') return 'permanent';
  if (c !== null && IMAP_AUTH.has(c)) return 'auth';
  if (c !== null && IMAP_PERMANENT.has(c)) return 'permanent';
  return duringLogin ? 'auth' : 'protocol';
}
