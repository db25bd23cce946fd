import { readFileSync } from 'node:fs';
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
}

function readPem(variable: string, file: string, what: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (err) {
    throw new TemporalConnectionError(`${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const text = content.toString('latin1');
  if (!text.includes('-----BEGIN') || !text.includes(what)) throw new TemporalConnectionError(`${variable}: ${file} holds no PEM ${what.toLowerCase()}`);
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
    ...(settings.temporalApiKey !== null && { apiKey: settings.temporalApiKey }),
  };
}

const CAUSES: { pattern: RegExp; explain: (s: TemporalSettings) => string }[] = [
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
    pattern: /invalid ?content ?type|corrupt ?message|wrong version number|http\/1|InvalidMessage/i,
    explain: (s) =>
      s.temporalTls
        ? 'the server does not speak TLS there: unset the TEMPORAL_TLS_* variables, or check the address'
        : 'the connection was closed during the first exchange: if the server speaks TLS, set TEMPORAL_TLS=true (and the TEMPORAL_TLS_* files it needs)',
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

/**
 * Why connecting failed, in an admin's words, with the setting to change. The SDK's own message
 * (a transport error from its TLS library) follows in brackets for the details.
 */
export function explainTemporalConnectFailure(err: unknown, settings: TemporalSettings): string {
  const detail = err instanceof Error ? `${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}` : String(err);
  const cause = CAUSES.find((c) => c.pattern.test(detail));
  const tlsWord = settings.temporalTls ? (settings.temporalTls.clientCertPath ? 'mutual TLS' : 'TLS') : 'plaintext';
  return (
    `cannot connect to Temporal at ${settings.temporalAddress} (${tlsWord}): ` +
    `${cause ? cause.explain(settings) : 'see the details'} [${detail.replace(/\s+/g, ' ').slice(0, 500)}]`
  );
}

/** Connects with the settings; a failure becomes a TemporalConnectionError whose message names the cause and the setting. */
export async function connectTemporal<T>(settings: TemporalSettings, connect: (options: TemporalConnectOptions) => Promise<T>): Promise<T> {
  const options = temporalConnectOptions(settings);
  try {
    return await connect(options);
  } catch (err) {
    throw new TemporalConnectionError(explainTemporalConnectFailure(err, settings), { cause: err });
  }
}
