import { MailpullError } from '../core/errors';
import type { Pool, Queryable } from './pool';

// One advisory lock per external account, shared by collection sessions and index resets.
const KEY = "hashtext('mailpull-account'), hashtext($1)";

/** Takes the account's lock for this connection's session, if nobody holds it. */
export async function tryLockAccount(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}

export async function unlockAccount(db: Queryable, accountId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_unlock(${KEY})`, [accountId]);
}

/**
 * Runs `work` holding the account's lock on a connection of its own, so that even a zombie
 * activity on a partitioned worker cannot overlap its retry; the lock dies with the connection if
 * the worker dies. Someone else holding it is a 'busy' error.
 */
export async function withAccountLock<T>(pool: Pool, accountId: string, work: () => Promise<T>): Promise<T> {
  const lock = await pool.connect();
  try {
    if (!(await tryLockAccount(lock, accountId))) throw new MailpullError('busy', 'another session of this account is still running');
    try {
      return await work();
    } finally {
      await unlockAccount(lock, accountId);
    }
  } finally {
    lock.release();
  }
}

/** Takes the account's lock until the current transaction ends, if nobody holds it. */
export async function tryLockAccountForTransaction(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}
