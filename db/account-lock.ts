import type { Queryable } from './pool';

// One advisory lock per external account, shared by collection sessions and index resets.
const KEY = "hashtext('mailpull-account'), hashtext($1)";

/** Takes the account's lock for this connection's session, if nobody holds it. */
export async function tryLockAccount(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}

export async function unlockAccount(db: Queryable, accountId: string): Promise<void> {
  await db.query(`SELECT pg_advisory_unlock(${KEY})`, [accountId]);
}

/** Takes the account's lock until the current transaction ends, if nobody holds it. */
export async function tryLockAccountForTransaction(db: Queryable, accountId: string): Promise<boolean> {
  return (await db.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${KEY}) AS ok`, [accountId])).rows[0].ok;
}
