/** How an account wants its connection protected. */
export type TlsMode = 'detect' | 'direct' | 'disabled';
/** How the connection actually ended up; the status shows it. */
export type TlsOutcome = 'implicit' | 'starttls' | 'plaintext';

const DEFAULT_PORTS = { pop3: { plain: 110, implicit: 995 } } as const;

export const defaultPort = (protocol: keyof typeof DEFAULT_PORTS, mode: TlsMode): number =>
  mode === 'direct' ? DEFAULT_PORTS[protocol].implicit : DEFAULT_PORTS[protocol].plain;

/**
 * After the capability probe on a plaintext connection: upgrade with STLS/STARTTLS when the
 * account wants detection and the server offers it. A failed upgrade is an error for the caller,
 * never a reason to continue in plaintext.
 */
export function decideUpgrade(mode: TlsMode, serverOffersUpgrade: boolean): 'upgrade' | 'plaintext' {
  return mode === 'detect' && serverOffersUpgrade ? 'upgrade' : 'plaintext';
}
