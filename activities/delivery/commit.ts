import type { PoolClient } from 'pg';
import { deliveryRetryDelayMs, dispositionOf, nextAttemptAt, type RecipientOutcome } from '../../core/delivery-outcome';
import { classifyError } from '../../core/errors';
import { addTally, emptyTally, type Tally } from '../../core/tally';
import type { StoredExternalAccount } from '../../db/external-accounts';
import { insertHeld, type HeldRecipient } from '../../db/held-messages';
import { storeMessage, storeMessages, type StoredMessageInput } from '../../db/mailbox-store';
import { inTransaction } from '../../db/pool';
import { markDelivered, markDeliveredMany } from '../../db/uid-index';
import {
  isTransient,
  reasonOf,
  type CommitContext,
  type DeliveryDeps,
  type DeliveryRecord,
  type GroupOutcome,
  type Letter,
  type SentRecord,
} from './record';

/** The database refused the statements written together: each message is written alone instead. */
class RefusedTogether extends Error {}

/** A recipient's copy in the built-in store. */
const storeInput = (letter: Letter, accountId: string): StoredMessageInput => ({
  accountId,
  folder: letter.localFolder,
  raw: letter.raw,
  internalDate: letter.internalDate,
  flags: letter.flags,
  summary: letter.summary,
  contentHash: letter.contentHash,
  source: letter.ref,
});

/**
 * Stores the built-in store's copies in the caller's transaction, and sorts out what the targets
 * answered (their acceptances are recorded already). Returns the recipients still without the
 * message and every outcome.
 */
export async function commitRecipients(
  tx: PoolClient,
  { letter, routed }: SentRecord<{ letter: Letter }>,
): Promise<{ newly: boolean; remaining: HeldRecipient[]; outcomes: RecipientOutcome[] }> {
  let newly = false;
  const remaining: HeldRecipient[] = [];
  const outcomes: RecipientOutcome[] = [];
  for (const accountId of letter.recipients) {
    const r = routed.get(accountId) ?? { route: 'store' };
    if (r.route === 'store') {
      newly = (await storeMessage(tx, storeInput(letter, accountId))) || newly;
      continue;
    }
    outcomes.push(r.outcome);
    if (r.outcome.status === 'delivered') {
      newly = true;
    } else {
      remaining.push({ accountId, state: r.outcome.status === 'temporary' ? 'pending' : 'rejected', response: r.outcome.response });
    }
  }
  return { newly, remaining, outcomes };
}

/** The delivery a recognised copy records: nobody gets it again. */
const recognizedDelivery = (record: DeliveryRecord) => ({
  recipientCount: 0,
  contentHash: record.letter.contentHash,
  recognized: true,
  held: record.heldCopy,
});

/** Nothing for a target and nothing waiting for one: the whole message is written by the commit. */
const storeOnly = (record: SentRecord<DeliveryRecord>): boolean =>
  !record.waiting && record.letter.recipients.every((id) => record.routed.get(id)?.route !== 'target');

/**
 * The commit stage: one transaction records the group with the UID index, so a retry finds the
 * group done or not done. A message a target answered "later" is held (still on the remote
 * server); one it refused for good goes to quarantine; a recognised copy is only marked delivered.
 * Copies recognised and messages only for the built-in store are written with two statements
 * together, first in the transaction; if the database refuses any of them, the transaction starts
 * again with each message written alone, each in a savepoint of its own, so one message's writes
 * failing (bytes the database refuses) do not undo the others'.
 */
export async function commitGroup(
  { pool, retryBaseMs }: DeliveryDeps,
  account: StoredExternalAccount,
  records: readonly SentRecord<DeliveryRecord>[],
  addresses: ReadonlyMap<string, string>,
): Promise<GroupOutcome> {
  const context: CommitContext = { account, addresses, retryBaseMs, now: Date.now() };
  const together = records.filter((r) => r.recognized || storeOnly(r));
  if (together.length > 1) {
    try {
      return await inTransaction(pool, (tx) => commitInTransaction(tx, context, records, together));
    } catch (err) {
      if (!(err instanceof RefusedTogether)) throw err;
    }
  }
  return inTransaction(pool, (tx) => commitInTransaction(tx, context, records, []));
}

async function commitInTransaction(
  tx: PoolClient,
  context: CommitContext,
  records: readonly SentRecord<DeliveryRecord>[],
  together: readonly SentRecord<DeliveryRecord>[],
): Promise<GroupOutcome> {
  const outcome: GroupOutcome = { ...emptyTally(), lastReason: null, failures: [] };
  if (together.length > 0) {
    try {
      addTally(outcome, await commitTogether(tx, context.account, together));
    } catch (err) {
      throw isTransient(err) ? err : new RefusedTogether('the statements written together were refused', { cause: err });
    }
  }
  const written = new Set(together);
  for (const record of records) {
    if (written.has(record)) continue;
    await tx.query('SAVEPOINT message');
    try {
      await commitAlone(tx, context, record, outcome);
      await tx.query('RELEASE SAVEPOINT message');
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT message');
      if (isTransient(err)) throw err;
      outcome.failures.push({ message: record.arrived, reason: classifyError(err).message });
    }
  }
  return outcome;
}

/** Recognised copies and store-only messages: one multi-row insert of the copies, one index update. */
async function commitTogether(
  tx: PoolClient,
  account: StoredExternalAccount,
  records: readonly SentRecord<DeliveryRecord>[],
): Promise<Tally> {
  const counts = emptyTally();
  const stores = records
    .filter((r) => !r.recognized)
    .flatMap((record) => record.letter.recipients.map((accountId) => ({ record, accountId })));
  const stored = await storeMessages(
    tx,
    stores.map(({ record, accountId }) => storeInput(record.letter, accountId)),
  );
  const newly = new Set(stores.filter((_, k) => stored[k]).map(({ record }) => record));
  await markDeliveredMany(
    tx,
    account.id,
    records.map((record) => ({
      message: record.arrived.message,
      delivery: record.recognized
        ? recognizedDelivery(record)
        : { recipientCount: record.letter.recipients.length, contentHash: record.letter.contentHash, recognized: false },
    })),
  );
  for (const record of records) counts[record.recognized || !newly.has(record) ? 'recognized' : 'delivered']++;
  return counts;
}

/** One message in its savepoint: its copies, its hold (if a target did not take it) and its index row. */
async function commitAlone(
  tx: PoolClient,
  context: CommitContext,
  record: SentRecord<DeliveryRecord>,
  outcome: GroupOutcome,
): Promise<void> {
  const { account } = context;
  const { letter, arrived } = record;
  if (record.recognized) {
    await markDelivered(tx, account.id, arrived.message, recognizedDelivery(record));
    outcome.recognized++;
    return;
  }
  const { newly, remaining, outcomes } = await commitRecipients(tx, record);
  const disposition = dispositionOf(outcomes);
  if (disposition !== 'delivered') {
    outcome.lastReason = reasonOf(remaining, context.addresses);
    await insertHeld(tx, {
      ...letter,
      state: disposition === 'held' ? 'pending' : 'quarantined',
      reason: outcome.lastReason,
      nextAttemptAt: nextAttemptAt(outcomes, context.now, deliveryRetryDelayMs(1, context.retryBaseMs)),
      recipients: remaining,
    });
  }
  await markDelivered(tx, account.id, arrived.message, {
    recipientCount: letter.recipients.length,
    contentHash: letter.contentHash,
    recognized: false,
    held: disposition === 'held' || record.waiting,
  });
  // Nobody got it newly: every recipient had it already (a reset index without force).
  if (disposition === 'delivered') outcome[newly ? 'delivered' : 'recognized']++;
  else outcome[disposition]++;
}
