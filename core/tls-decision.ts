/**
 * How an account wants its connection protected: `starttls` requires the upgrade (no plaintext
 * login, ever), `detect` upgrades when the server offers it, `direct` is implicit TLS, `disabled`
 * is plaintext.
 */
export const TLS_MODES = ['detect', 'starttls', 'direct', 'disabled'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
/** How the connection actually ended up; the status shows it. */
export const TLS_OUTCOMES = ['implicit', 'starttls', 'plaintext'] as const;
export type TlsOutcome = (typeof TLS_OUTCOMES)[number];

/** The standard ports, for mailboxes (POP3, IMAP) and delivery targets (LMTP has no implicit-TLS port). */
const DEFAULT_PORTS = {
  pop3: { plain: 110, implicit: 995 },
  imap: { plain: 143, implicit: 993 },
  lmtp: { plain: 24, implicit: 24 },
  smtp: { plain: 25, implicit: 465 },
} as const;

export type MailService = keyof typeof DEFAULT_PORTS;

export const defaultPort = (protocol: MailService, mode: TlsMode): number =>
  mode === 'direct' ? DEFAULT_PORTS[protocol].implicit : DEFAULT_PORTS[protocol].plain;

/**
 * The port after a change of TLS mode: an explicit port wins; a port that was the old mode's
 * default follows the mode (110 → 995 when switching to implicit TLS); any other port stays.
 */
export function portAfterChange(
  protocol: MailService,
  stored: { port: number; tlsMode: TlsMode },
  change: { port?: number; tlsMode?: TlsMode },
): number {
  if (change.port !== undefined) return change.port;
  if (change.tlsMode === undefined || stored.port !== defaultPort(protocol, stored.tlsMode)) return stored.port;
  return defaultPort(protocol, change.tlsMode);
}

/**
 * After the capability probe on a plaintext connection: upgrade with STLS/STARTTLS when the
 * account wants it and the server offers it; `starttls` without the offer (a server without it, or
 * a man in the middle who struck it from the capabilities) is refused before any login. A failed
 * upgrade is an error for the caller, never a reason to continue in plaintext.
 */
export function decideUpgrade(mode: TlsMode, serverOffersUpgrade: boolean): 'upgrade' | 'plaintext' | 'refuse' {
  if (mode === 'starttls') return serverOffersUpgrade ? 'upgrade' : 'refuse';
  return mode === 'detect' && serverOffersUpgrade ? 'upgrade' : 'plaintext';
}

export const STARTTLS_REFUSED = 'tlsMode "starttls": the server does not offer STARTTLS/STLS, so no login is sent without TLS';

/**
 * What the status warns about how the last connection was protected: nothing when TLS with a
 * checked certificate was used.
 */
export function tlsWarning(outcome: TlsOutcome, allowInvalidCertificates: boolean): string | null {
  if (outcome === 'plaintext') return 'insecure: the connection is not encrypted (no TLS, or the server offers no STARTTLS/STLS)';
  if (allowInvalidCertificates) return "insecure: the server's certificate is not checked (allowInvalidCertificates)";
  return null;
}
