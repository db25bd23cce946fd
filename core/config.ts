import { MAX_STORED_MESSAGE_BYTES } from './message-size';
import { parseNetworkPolicy, type NetworkPolicy } from './network-policy';

/** Where the secret keys come from: MAILPULL_SECRET_KEY, or a key file. */
export type KeySource = { kind: 'env'; value: string } | { kind: 'file'; path: string };

/** Every environment variable mailpull reads; docs/configuration.md documents each one. */
export const CONFIG_VARIABLES = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_API_KEY',
  'MAILPULL_TASK_QUEUE',
  'API_HOST',
  'API_PORT',
  'MAILPULL_BATCH_MESSAGES',
  'MAILPULL_BATCH_BYTES',
  'MAILPULL_MAX_MESSAGE_BYTES',
  'MAILPULL_COMMIT_MESSAGES',
  'MAILPULL_COMMIT_BYTES',
  'MAILPULL_SOCKET_TIMEOUT_MS',
  'MAILPULL_IDLE_RESTART_MS',
  'MAILPULL_SECRET_KEY',
  'MAILPULL_SECRET_KEY_FILE',
  'MAILPULL_PROTOCOL_TRACE',
  'MAILPULL_DELIVERY_RETRY_SECONDS',
  'MAILPULL_MAX_ACTIVITIES',
  'MAILPULL_MAX_IDLE_WATCHES',
  'MAILPULL_MAX_CACHED_WORKFLOWS',
  'MAILPULL_DB_POOL',
  'MAILPULL_LOOP_REPORT_SECONDS',
  'MAILPULL_HEALTH_FILE',
  'MAILPULL_WORKER_METRICS_ADDRESS',
  'MAILPULL_API_MAX_BODY_BYTES',
  'MAILPULL_API_RATE_LIMIT',
  'MAILPULL_API_AUTH_FAILURE_LIMIT',
  'MAILPULL_RECONCILE_SECONDS',
  'MAILPULL_WEBHOOK_RETRY_SECONDS',
  'MAILPULL_WEBHOOK_TIMEOUT_SECONDS',
  'MAILPULL_ALLOWED_NETWORKS',
  'MAILPULL_ALLOWED_SOCKET_DIRS',
  'MAILPULL_TEMPORAL_UI_URL',
  'MAILPULL_METRICS_PUBLIC',
  'MAILPULL_LOG_LEVEL',
  'MAILPULL_LOG_FORMAT',
  'MAILPULL_PUBLIC_URL',
  'MAILPULL_OAUTH_GOOGLE_CLIENT_ID',
  'MAILPULL_OAUTH_GOOGLE_CLIENT_SECRET',
  'MAILPULL_OAUTH_MICROSOFT_CLIENT_ID',
  'MAILPULL_OAUTH_MICROSOFT_CLIENT_SECRET',
  'MAILPULL_OAUTH_MICROSOFT_TENANT',
  'MAILPULL_OAUTH_CUSTOM_ISSUER',
  'MAILPULL_OAUTH_CUSTOM_CLIENT_ID',
  'MAILPULL_OAUTH_CUSTOM_CLIENT_SECRET',
  'MAILPULL_OAUTH_CUSTOM_SCOPE',
] as const;

/** An OAuth app given by MAILPULL_OAUTH_<PROVIDER>_* variables; the API stores it at start. */
export interface EnvOAuthApp {
  provider: 'google' | 'microsoft' | 'custom';
  clientId: string;
  /** null: a public client */
  clientSecret: string | null;
  tenant?: string;
  issuer?: string;
  scope?: string;
}

type ConfigVariable = (typeof CONFIG_VARIABLES)[number];

/** TLS to Temporal: files are read when connecting (core/temporal-connection.ts). */
export interface TemporalTls {
  /** mutual TLS: the certificate and key this process presents; null: none */
  clientCertPath: string | null;
  clientKeyPath: string | null;
  /** the CA that signed the server's certificate; null: the system's trusted CAs */
  serverCaCertPath: string | null;
  /** the name the server's certificate must carry when it differs from the address's host */
  serverName: string | null;
}

/** How the worker and the API reach Temporal: a local server, a remote cluster or Temporal Cloud. */
export interface TemporalSettings {
  temporalAddress: string;
  temporalNamespace: string;
  /** null: plaintext */
  temporalTls: TemporalTls | null;
  /** Temporal Cloud's API key, sent as a bearer token over TLS; null: none */
  temporalApiKey: string | null;
}

export interface Config extends TemporalSettings {
  databaseUrl: string;
  taskQueue: string;
  apiHost: string;
  apiPort: number;
  batchMessages: number;
  batchBytes: number;
  maxMessageBytes: number;
  commitMessages: number;
  commitBytes: number;
  socketTimeoutMs: number;
  /** IMAP IDLE is re-issued this often, below the 29-minute server limit */
  idleRestartMs: number;
  /** where the keys that seal passwords and tokens come from */
  secretKeys: KeySource;
  /** log every POP3/IMAP command and status line, credentials masked */
  protocolTrace: boolean;
  /** first wait before a held message is offered to its target again; it doubles up to 30 minutes */
  deliveryRetryMs: number;
  /** activities one worker runs at once; each mail session also holds one lock connection */
  maxActivities: number;
  /** IMAP IDLE watches one worker holds at once (each one or more connections), apart from maxActivities */
  maxIdleWatches: number;
  /** account workflows one worker keeps in memory between their tasks; the others are replayed from their history */
  maxCachedWorkflows: number;
  /** database connections for queries and transactions, besides the lock connections */
  dbPool: number;
  /** how often the worker logs its event loop's longest delay */
  loopReportMs: number;
  /** touched every few seconds while the worker polls its task queue, for a container health check */
  healthFile: string | null;
  /** host:port where the worker serves the Temporal SDK's Prometheus metrics; null: none */
  workerMetricsAddress: string | null;
  /** the API answers 413 to larger request bodies */
  apiMaxBodyBytes: number;
  /** requests per minute per API token, then 429 */
  apiRateLimit: number;
  /** failed authentications per minute from one client address, then 429 */
  apiAuthFailureLimit: number;
  /** how often the worker looks for external accounts without a running workflow */
  reconcileMs: number;
  /** first wait before a failed webhook delivery is tried again; it doubles up to 10 minutes */
  webhookRetryMs: number;
  /** how long one webhook POST may take, from resolving its host to the answer's status */
  webhookTimeoutMs: number;
  /** which addresses and unix sockets accounts and delivery targets may point at */
  networkPolicy: NetworkPolicy;
  /** the Temporal Web UI as an operator's browser reaches it, for the admin page's links; null: no links */
  temporalUiUrl: string | null;
  /** GET /metrics answers without a token */
  metricsPublic: boolean;
  /** the API as browsers reach it, for the OAuth redirect URI (…/oauth/callback); null: the address each request came to */
  publicUrl: string | null;
  /** OAuth apps set by the environment */
  oauthApps: EnvOAuthApp[];
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface LogSettings {
  level: (typeof LOG_LEVELS)[number];
  /** one JSON object a line, or lines for a person reading a terminal */
  format: 'json' | 'pretty';
}

const isOn = (raw: string | undefined): boolean => ['1', 'true', 'yes', 'on'].includes((raw ?? '').toLowerCase());

const TLS_SWITCH: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

/**
 * The Temporal connection settings, under the names of Temporal's own client environment
 * configuration (the Temporal CLI reads the same variables). TLS is on when TEMPORAL_TLS says so,
 * or when any TLS file, a server name or an API key is given, unless TEMPORAL_TLS is false.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const read = (name: ConfigVariable): string | undefined => (env[name] === '' ? undefined : env[name]);
  const tlsRaw = read('TEMPORAL_TLS');
  const tlsSwitch = tlsRaw === undefined ? undefined : TLS_SWITCH[tlsRaw.toLowerCase()];
  if (tlsRaw !== undefined && tlsSwitch === undefined) throw new Error(`TEMPORAL_TLS must be true or false, got "${tlsRaw}"`);
  const tls: TemporalTls = {
    clientCertPath: read('TEMPORAL_TLS_CLIENT_CERT_PATH') ?? null,
    clientKeyPath: read('TEMPORAL_TLS_CLIENT_KEY_PATH') ?? null,
    serverCaCertPath: read('TEMPORAL_TLS_SERVER_CA_CERT_PATH') ?? null,
    serverName: read('TEMPORAL_TLS_SERVER_NAME') ?? null,
  };
  if ((tls.clientCertPath === null) !== (tls.clientKeyPath === null)) {
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both for mutual TLS, or neither');
  }
  const apiKey = read('TEMPORAL_API_KEY') ?? null;
  const tlsAsked = Object.values(tls).some((value) => value !== null);
  if (tlsSwitch === false && (tlsAsked || apiKey !== null)) {
    throw new Error('TEMPORAL_TLS is false, but TLS files, a server name or TEMPORAL_API_KEY are set (an API key is only sent over TLS)');
  }
  return {
    temporalAddress: read('TEMPORAL_ADDRESS') ?? '127.0.0.1:7233',
    temporalNamespace: read('TEMPORAL_NAMESPACE') ?? 'default',
    temporalTls: tlsSwitch === true || tlsAsked || apiKey !== null ? tls : null,
    temporalApiKey: apiKey,
  };
}

/** Apart from loadConfig: every process logs, also before (or without) the rest of its configuration. */
export function loadLogSettings(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const level = (env.MAILPULL_LOG_LEVEL || 'info').toLowerCase();
  const format = (env.MAILPULL_LOG_FORMAT || 'json').toLowerCase();
  const isLevel = (value: string): value is LogSettings['level'] => (LOG_LEVELS as readonly string[]).includes(value);
  if (!isLevel(level)) throw new Error(`MAILPULL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  if (format !== 'json' && format !== 'pretty') throw new Error(`MAILPULL_LOG_FORMAT must be json or pretty, got "${format}"`);
  return { level, format };
}

export { MAX_STORED_MESSAGE_BYTES };
export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;
export const DEFAULT_API_AUTH_FAILURE_LIMIT = 30;

/** The webhook retry interval doubles up to this; a first interval beyond it makes no sense. */
const MAX_WEBHOOK_RETRY_SECONDS = 600;
const MAX_WEBHOOK_TIMEOUT_SECONDS = 300;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const read = (name: ConfigVariable): string | undefined => (env[name] === '' ? undefined : env[name]);
  const positiveInt = (name: ConfigVariable, fallback: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  const atMost = (name: ConfigVariable, value: number, max: number, why?: string): number => {
    if (value > max) throw new Error(`${name} must be at most ${max}${why ? ` (${why})` : ''}, got ${value}`);
    return value;
  };
  const httpUrl = (name: ConfigVariable): string | null => {
    const raw = read(name);
    if (raw === undefined) return null;
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new Error(`${name} must be an http or https URL, got "${raw}"`);
    let base = raw;
    while (base.endsWith('/')) base = base.slice(0, -1);
    return base;
  };
  const databaseUrl = read('DATABASE_URL');
  if (!databaseUrl) throw new Error('DATABASE_URL is required (scripts/start.sh sets it for the embedded default)');
  const keyValue = read('MAILPULL_SECRET_KEY');
  const keyFile = read('MAILPULL_SECRET_KEY_FILE');
  if (keyValue && keyFile) throw new Error('set MAILPULL_SECRET_KEY or MAILPULL_SECRET_KEY_FILE, not both');
  if (!keyValue && !keyFile) {
    throw new Error(
      'MAILPULL_SECRET_KEY or MAILPULL_SECRET_KEY_FILE is required: passwords and tokens are stored encrypted ' +
        '(scripts/start.sh generates a key file for the embedded default; make a key with scripts/mailpull.sh keys generate)',
    );
  }
  const oauthApp = (provider: EnvOAuthApp['provider'], prefix: string, extra: Partial<EnvOAuthApp>): EnvOAuthApp[] => {
    const clientId = read(`${prefix}_CLIENT_ID` as ConfigVariable);
    if (!clientId) return [];
    return [{ provider, clientId, clientSecret: read(`${prefix}_CLIENT_SECRET` as ConfigVariable) ?? null, ...extra }];
  };
  const customIssuer = read('MAILPULL_OAUTH_CUSTOM_ISSUER');
  if (read('MAILPULL_OAUTH_CUSTOM_CLIENT_ID') && !customIssuer)
    throw new Error('MAILPULL_OAUTH_CUSTOM_CLIENT_ID needs MAILPULL_OAUTH_CUSTOM_ISSUER');
  const oauthApps = [
    ...oauthApp('google', 'MAILPULL_OAUTH_GOOGLE', {}),
    ...oauthApp('microsoft', 'MAILPULL_OAUTH_MICROSOFT', { tenant: read('MAILPULL_OAUTH_MICROSOFT_TENANT') }),
    ...oauthApp('custom', 'MAILPULL_OAUTH_CUSTOM', { issuer: customIssuer, scope: read('MAILPULL_OAUTH_CUSTOM_SCOPE') }),
  ];
  return {
    databaseUrl,
    ...loadTemporalSettings(env),
    taskQueue: read('MAILPULL_TASK_QUEUE') ?? 'mailpull',
    apiHost: read('API_HOST') ?? '127.0.0.1',
    apiPort: positiveInt('API_PORT', 8080),
    batchMessages: positiveInt('MAILPULL_BATCH_MESSAGES', 200),
    batchBytes: positiveInt('MAILPULL_BATCH_BYTES', 64 * 1024 * 1024),
    maxMessageBytes: atMost(
      'MAILPULL_MAX_MESSAGE_BYTES',
      positiveInt('MAILPULL_MAX_MESSAGE_BYTES', DEFAULT_MAX_MESSAGE_BYTES),
      MAX_STORED_MESSAGE_BYTES,
      'the largest message the store can hold and give back',
    ),
    commitMessages: positiveInt('MAILPULL_COMMIT_MESSAGES', 200),
    commitBytes: positiveInt('MAILPULL_COMMIT_BYTES', 16 * 1024 * 1024),
    socketTimeoutMs: positiveInt('MAILPULL_SOCKET_TIMEOUT_MS', 60_000),
    idleRestartMs: positiveInt('MAILPULL_IDLE_RESTART_MS', 25 * 60_000),
    deliveryRetryMs: positiveInt('MAILPULL_DELIVERY_RETRY_SECONDS', 30) * 1000,
    maxActivities: positiveInt('MAILPULL_MAX_ACTIVITIES', 20),
    maxIdleWatches: positiveInt('MAILPULL_MAX_IDLE_WATCHES', 100),
    maxCachedWorkflows: positiveInt('MAILPULL_MAX_CACHED_WORKFLOWS', 500),
    dbPool: positiveInt('MAILPULL_DB_POOL', 10),
    loopReportMs: positiveInt('MAILPULL_LOOP_REPORT_SECONDS', 300) * 1000,
    healthFile: read('MAILPULL_HEALTH_FILE') ?? null,
    workerMetricsAddress: read('MAILPULL_WORKER_METRICS_ADDRESS') ?? null,
    apiMaxBodyBytes: positiveInt('MAILPULL_API_MAX_BODY_BYTES', 1024 * 1024),
    apiRateLimit: positiveInt('MAILPULL_API_RATE_LIMIT', 600),
    apiAuthFailureLimit: positiveInt('MAILPULL_API_AUTH_FAILURE_LIMIT', DEFAULT_API_AUTH_FAILURE_LIMIT),
    reconcileMs: positiveInt('MAILPULL_RECONCILE_SECONDS', 300) * 1000,
    webhookRetryMs:
      atMost('MAILPULL_WEBHOOK_RETRY_SECONDS', positiveInt('MAILPULL_WEBHOOK_RETRY_SECONDS', 10), MAX_WEBHOOK_RETRY_SECONDS) * 1000,
    webhookTimeoutMs:
      atMost('MAILPULL_WEBHOOK_TIMEOUT_SECONDS', positiveInt('MAILPULL_WEBHOOK_TIMEOUT_SECONDS', 10), MAX_WEBHOOK_TIMEOUT_SECONDS) * 1000,
    networkPolicy: parseNetworkPolicy({
      allowedNetworks: read('MAILPULL_ALLOWED_NETWORKS'),
      allowedSocketDirs: read('MAILPULL_ALLOWED_SOCKET_DIRS'),
    }),
    temporalUiUrl: httpUrl('MAILPULL_TEMPORAL_UI_URL'),
    metricsPublic: isOn(read('MAILPULL_METRICS_PUBLIC')),
    publicUrl: httpUrl('MAILPULL_PUBLIC_URL'),
    oauthApps,
    protocolTrace: isOn(read('MAILPULL_PROTOCOL_TRACE')),
    secretKeys: keyFile ? { kind: 'file', path: keyFile } : { kind: 'env', value: keyValue ?? '' },
  };
}
