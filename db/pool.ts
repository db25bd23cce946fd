import pg from 'pg';
import { MailpullError } from '../core/errors';

export type Pool = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  /** connections at most */
  max?: number;
  /** how long a caller waits for a free connection before a clear error */
  acquireTimeoutMs?: number;
  /** longest a single statement may run */
  statementTimeoutMs?: number;
}

const ignore = (): void => undefined;

/**
 * A pool that survives its server: TCP keepalive finds dead connections, every client has an
 * error listener (a checked-out client whose server restarts emits 'error', which would otherwise
 * end the process), waiting for a connection and running a statement are both bounded.
 */
export function createPool(databaseUrl: string, options: PoolOptions = {}): Pool {
  const statementTimeout = options.statementTimeoutMs ?? 120_000;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.acquireTimeoutMs ?? 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: statementTimeout,
  });
  pool.on('error', ignore);
  pool.on('connect', (client) => client.on('error', ignore));
  return pool;
}

/** Checks out a client; a pool that cannot give one in time is a retryable database error. */
export async function connectClient(pool: Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/timeout/i.test(message)) {
      throw new MailpullError(
        'database',
        `no database connection free within the pool's wait (${pool.options.max} connections): ${message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

export async function inTransaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await connectClient(pool);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
    throw err;
  } finally {
    // a client whose ROLLBACK failed is in an unknown state: it is closed, not reused
    client.release(broken);
  }
}
