/** Configuration read from the environment; every variable is listed in the README. */
export interface Config {
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  apiHost: string;
  apiPort: number;
  batchMessages: number;
  batchBytes: number;
  maxMessageBytes: number;
  socketTimeoutMs: number;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required (scripts/start.sh sets it for the embedded default)');
  return {
    databaseUrl,
    temporalAddress: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.MAILPULL_TASK_QUEUE || 'mailpull',
    apiHost: env.API_HOST || '127.0.0.1',
    apiPort: positiveInt(env, 'API_PORT', 8080),
    batchMessages: positiveInt(env, 'MAILPULL_BATCH_MESSAGES', 200),
    batchBytes: positiveInt(env, 'MAILPULL_BATCH_BYTES', 64 * 1024 * 1024),
    maxMessageBytes: positiveInt(env, 'MAILPULL_MAX_MESSAGE_BYTES', 100 * 1024 * 1024),
    socketTimeoutMs: positiveInt(env, 'MAILPULL_SOCKET_TIMEOUT_MS', 60_000),
  };
}
