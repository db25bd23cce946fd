import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { TemporalSettings } from './config';
import { TemporalConnectionError } from './errors';

/** What both the client's Connection.connect and the worker's NativeConnection.connect take. */
export interface TemporalConnectOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
  metadata?: Record<string, string>;
}

function readPem(variable: string, file: string, what: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new TemporalConnectionError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const text = content.toString('latin1');
  if (!text.includes('-----BEGIN') || !text.includes(what))
    throw new TemporalConnectionError(`${variable}: ${file} holds no PEM ${what.toLowerCase()}`);
  return content;
}

/** The settings as connection options, the certificate files read; a file that cannot serve names its variable. */
export function temporalConnectOptions(settings: TemporalSettings): TemporalConnectOptions {
  const tls = settings.temporalTls;
  return {
    address: settings.temporalAddress,
    ...(tls && {
      tls: {
        ...(tls.serverName !== null && { serverNameOverride: tls.serverName }),
        ...(tls.serverCaCertPath !== null && {
          serverRootCACertificate: readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', tls.serverCaCertPath, 'CERTIFICATE'),
        }),
        ...(tls.clientCertPath !== null &&
          tls.clientKeyPath !== null && {
            clientCertPair: {
              crt: readPem('TEMPORAL_TLS_CLIENT_CERT_PATH', tls.clientCertPath, 'CERTIFICATE'),
              key: readPem('TEMPORAL_TLS_CLIENT_KEY_PATH', tls.clientKeyPath, 'PRIVATE KEY'),
            },
          }),
      },
    }),
    // Temporal Cloud's regional API-key endpoints route each call by this header
    ...(settings.temporalApiKey !== null && {
      apiKey: settings.temporalApiKey,
      metadata: { 'temporal-namespace': settings.temporalNamespace },
    }),
  };
}

const SPEAKS_TLS = 'the server completed a TLS handshake';

/** vague: a symptom several causes share; what a TLS handshake of our own meets says more */
const CAUSES: { pattern: RegExp; explain: (s: TemporalSettings) => string; vague?: true }[] = [
  {
    pattern: /certificate ?required/i,
    explain: () =>
      'the server requires a client certificate (mutual TLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH ' +
      'to a certificate signed by a CA the server trusts',
  },
  {
    pattern: /unknown ?ca|bad ?certificate|certificate ?unknown|unsupported ?certificate|access ?denied/i,
    explain: (s) =>
      `the server refused the client certificate${s.temporalTls?.clientCertPath ? ` ${s.temporalTls.clientCertPath}` : ''} ` +
      '(TEMPORAL_TLS_CLIENT_CERT_PATH): it is not signed by a CA the server trusts, or it has expired',
  },
  {
    pattern: /unknown ?issuer|self[ -]signed|unable to (get|verify)|certificate verify failed/i,
    explain: (s) =>
      s.temporalTls?.serverCaCertPath
        ? `the server's certificate is not signed by the CA in ${s.temporalTls.serverCaCertPath} (TEMPORAL_TLS_SERVER_CA_CERT_PATH)`
        : "the server's certificate is not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed it",
  },
  {
    pattern: /not ?valid ?for ?name|hostname|altnames|name ?mismatch/i,
    explain: () => "the server's certificate does not carry the address's host name: set TEMPORAL_TLS_SERVER_NAME to a name it carries",
  },
  {
    pattern: new RegExp(SPEAKS_TLS),
    explain: () => 'the server speaks TLS: set TEMPORAL_TLS=true (and the TEMPORAL_TLS_* files it needs)',
  },
  {
    pattern: /invalid ?content ?type|corrupt ?message|wrong version number|InvalidMessage/i,
    explain: () => 'the server does not speak TLS there: unset TEMPORAL_TLS and the TEMPORAL_TLS_* variables, or check the address',
  },
  {
    // a TLS server reading a plaintext HTTP/2 preface closes the connection without a word
    pattern: /broken ?pipe|connection reset|ECONNRESET|h2 protocol error|unexpected end of file|\beof\b/i,
    vague: true,
    explain: (s) =>
      s.temporalTls
        ? 'the server closed the connection during the first exchange: check the address and the server log'
        : 'the server closed the connection during the first exchange: if it speaks TLS, set TEMPORAL_TLS=true (and the TEMPORAL_TLS_* files it needs)',
  },
  {
    pattern: /unauthenticated|permission ?denied|unauthorized|invalid api key/i,
    explain: (s) =>
      s.temporalApiKey !== null
        ? 'the server refused the API key (TEMPORAL_API_KEY): check that it is valid and has access to the namespace'
        : 'the server requires authentication: set TEMPORAL_API_KEY, or a client certificate with TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
  },
  {
    pattern: /ECONNREFUSED|connection refused|ENOTFOUND|dns error|failed to lookup/i,
    explain: () => 'nothing answers there: check TEMPORAL_ADDRESS and that the Temporal server runs',
  },
];

const detailOf = (err: unknown): string =>
  err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);

/**
 * Why connecting failed, in an admin's words, with the setting to change. The SDK's own message
 * (a transport error from its TLS library) and what a TLS handshake of our own met (`handshake`,
 * see tlsHandshakeProblem) follow in brackets for the details; the SDK's message is read first,
 * unless it only says the server closed the connection.
 */
export function explainTemporalConnectFailure(err: unknown, settings: TemporalSettings, handshake: string | null = null): string {
  const detail = detailOf(err);
  const fromSdk = CAUSES.find((c) => c.pattern.test(detail));
  const fromHandshake = handshake === null ? undefined : CAUSES.find((c) => c.pattern.test(handshake));
  const cause = fromSdk && !fromSdk.vague ? fromSdk : (fromHandshake ?? fromSdk);
  const tlsWord = settings.temporalTls ? (settings.temporalTls.clientCertPath ? 'mutual TLS' : 'TLS') : 'plaintext';
  const details = handshake === null ? detail : `${detail}; our own TLS handshake: ${handshake}`;
  return (
    `cannot connect to Temporal at ${settings.temporalAddress} (${tlsWord}): ` +
    `${cause ? cause.explain(settings) : 'see the details'} [${details.replace(/\s+/g, ' ').slice(0, 600)}]`
  );
}

const HANDSHAKE_TIMEOUT_MS = 5_000;
/** how long after its handshake a TLS 1.3 server takes to refuse the client's certificate */
const ALERT_WAIT_MS = 1_000;

/**
 * The gRPC client of the API reports a refused TLS connection only as "Failed to connect before the
 * deadline": a TLS handshake of our own with the same settings tells why — the server's alert
 * (certificate required, unknown CA), its certificate's fault, or, on a plaintext setting, that
 * the server speaks TLS. null: the handshake met nothing to report.
 */
export async function tlsHandshakeProblem(settings: TemporalSettings, options: TemporalConnectOptions): Promise<string | null> {
  const colon = settings.temporalAddress.lastIndexOf(':');
  const host = settings.temporalAddress.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(settings.temporalAddress.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port)) return null;
  const tlsSettings = settings.temporalTls;
  const name = tlsSettings?.serverName ?? host;
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      ...(isIP(name) === 0 && { servername: name }),
      ALPNProtocols: ['h2'],
      // plaintext settings: is a TLS server there at all?
      rejectUnauthorized: tlsSettings !== null,
      ...(tlsSettings?.serverName && { checkServerIdentity: (_: string, cert: PeerCertificate) => checkServerIdentity(name, cert) }),
      ca: options.tls?.serverRootCACertificate,
      cert: options.tls?.clientCertPair?.crt,
      key: options.tls?.clientCertPair?.key,
    });
    const finish = (problem: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(problem);
    };
    const timer = setTimeout(() => finish(null), HANDSHAKE_TIMEOUT_MS);
    socket.once('error', (err: Error) => finish(err.message));
    socket.once('secureConnect', () => {
      if (tlsSettings === null) finish(SPEAKS_TLS);
      else setTimeout(() => finish(null), ALERT_WAIT_MS);
    });
  });
}

/** Connects with the settings; a failure becomes a TemporalConnectionError whose message names the cause and the setting. */
export async function connectTemporal<T>(settings: TemporalSettings, connect: (options: TemporalConnectOptions) => Promise<T>): Promise<T> {
  const options = temporalConnectOptions(settings);
  try {
    return await connect(options);
  } catch (err) {
    // a server that refuses the client's certificate may just close the connection: our own handshake hears its alert
    const known = CAUSES.some((c) => !c.vague && c.pattern.test(detailOf(err)));
    const handshake = known ? null : await tlsHandshakeProblem(settings, options);
    throw new TemporalConnectionError(explainTemporalConnectFailure(err, settings, handshake), { cause: err });
  }
}
