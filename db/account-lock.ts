import type pg from 'pg';
import { MailpullError } from '../core/errors';
import { connectClient, type Pool, type Queryable } from './pool';

// One advisory lock per external account, shared by collection sessions and index resets.
const KEY = "hashtext('mailpull-account'), hashtext($1)";

/**
 * The connections a worker works with. Session locks live on connections of their own: a session
 * holds its lock connection for as long as it runs and meanwhile takes work connections for short
 * queries and transactions. Were both taken from one pool, sessions holding every connection for
 * their locks would wait forever for a connection to work with. The lock pool is as large as the
 * number of activities that may run at once, so taking a lock never waits for another session.
 */
export interface Pools {
  pool: Pool;
  lockPool: Pool;
}

/** Takes the account's lock for this connection's session, if nobody holds it. */
export async function tryLockAccount(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}

export async function unlockAccount(db: Queryable, accountId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_unlock(${KEY})`, [accountId]);
}

/**
 * Runs `work` holding the account's lock on a connection of the lock pool, so that even a zombie
 * activity on a partitioned worker cannot overlap its retry; the lock dies with the connection if
 * the worker dies. Someone else holding it is a 'busy' error. `lost` rejects if the lock's
 * connection breaks (the database restarted): the lock is gone then, so the work must stop.
 */
export async function withAccountLock<T>(lockPool: Pool, accountId: string, work: (lost: Promise<never>) => Promise<T>): Promise<T> {
  const lock: pg.PoolClient = await connectClient(lockPool);
  let broken: Error | undefined;
  let onLost: (err: Error) => void = () => undefined;
  const lost = new Promise<never>((_, reject) => (onLost = reject));
  lost.catch(() => undefined);
  const listener = (err: Error): void => {
    broken = err;
    onLost(new MailpullError('database', `the connection holding the account's lock broke: ${err.message}`, { cause: err }));
  };
  lock.on('error', listener);
  try {
    if (!(await tryLockAccount(lock, accountId))) throw new MailpullError('busy', 'another session of this account is still running');
    try {
      return await work(lost);
    } finally {
      if (!broken) await unlockAccount(lock, accountId).catch((err: Error) => (broken = err));
    }
  } finally {
    lock.off('error', listener);
    lock.release(broken);
  }
}

/** Takes the account's lock until the current transaction ends, if nobody holds it. */
export async function tryLockAccountForTransaction(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}
