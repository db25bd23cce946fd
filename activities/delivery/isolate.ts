import { classifyError } from '../../core/errors';
import { addTally, emptyTally, type Tally } from '../../core/tally';
import type { StoredExternalAccount } from '../../db/external-accounts';
import { insertHeld } from '../../db/held-messages';
import { inTransaction } from '../../db/pool';
import { markDelivered, noteFailure } from '../../db/uid-index';
import type { FetchedRaw } from '../../mail/source';
import { commitGroup } from './commit';
import { contentHash, type ArrivedMessage } from './facts';
import { planDeliveries } from './plan';
import { isTransient, localFolderOf, sourceRef, type DeliveryDeps, type GroupOutcome, type MessageFailure } from './record';
import { sendToTargets } from './send';

/** A message that failed this often on its own is quarantined with its raw bytes. */
export const MAX_PROCESSING_FAILURES = 3;

export type IsolatedOutcome = Tally & { lastReason: string | null };

/**
 * A group of downloaded messages through the pipeline: each one's recipients planned, handed to
 * the targets its recipients route to (before the commit), and committed with the UID index.
 */
async function deliverGroup(deps: DeliveryDeps, account: StoredExternalAccount, group: readonly ArrivedMessage[]): Promise<GroupOutcome> {
  const planned = await planDeliveries(deps.pool, account, group);
  const { sent, addresses } = await sendToTargets(deps, account, planned);
  return commitGroup(deps, account, sent, addresses);
}

/**
 * The last stage: delivers a group so that one message that cannot be parsed, stored or delivered
 * fails alone. If the group fails before its commit for anything but a transient failure, each
 * message is tried on its own. A failed message is tried again later, behind the others, and after
 * MAX_PROCESSING_FAILURES goes to quarantine with its raw bytes and the reason: counted as kept,
 * like a message a target refused.
 */
export async function deliverIsolated(
  deps: DeliveryDeps,
  account: StoredExternalAccount,
  group: readonly ArrivedMessage[],
): Promise<IsolatedOutcome> {
  const total: IsolatedOutcome = { ...emptyTally(), lastReason: null };
  const failures: MessageFailure[] = [];
  const add = (one: GroupOutcome): void => {
    addTally(total, one);
    total.lastReason = one.lastReason ?? total.lastReason;
    failures.push(...one.failures);
  };
  try {
    add(await deliverGroup(deps, account, group));
  } catch (err) {
    if (isTransient(err)) throw err;
    if (group.length === 1) failures.push({ message: group[0], reason: classifyError(err).message });
    else
      for (const message of group) {
        try {
          add(await deliverGroup(deps, account, [message]));
        } catch (one) {
          if (isTransient(one)) throw one;
          failures.push({ message, reason: classifyError(one).message });
        }
      }
  }
  for (const { message, reason } of failures) {
    total.lastReason = `could not be processed: ${reason}`;
    if ((await noteFailure(deps.pool, account.id, message.message, total.lastReason)) >= MAX_PROCESSING_FAILURES) {
      await quarantineUnprocessable(deps, account, message, total.lastReason);
      total.quarantined++;
    } else {
      total.failed++;
    }
  }
  return total;
}

/**
 * Keeps a message nothing could process: raw bytes untouched, no parsed summary (that may be what
 * failed), for the owner; a retry from quarantine delivers it to the owner.
 */
async function quarantineUnprocessable(
  deps: DeliveryDeps,
  account: StoredExternalAccount,
  fetched: FetchedRaw,
  reason: string,
): Promise<void> {
  const { message, raw } = fetched;
  const hash = contentHash(raw);
  await inTransaction(deps.pool, async (tx) => {
    await insertHeld(tx, {
      ref: sourceRef(account, message),
      localFolder: localFolderOf(account, message),
      raw,
      contentHash: hash,
      internalDate: message.internalDate ?? new Date(),
      flags: message.flags,
      envelopeFrom: '',
      summary: { subject: null, from: null, messageId: null },
      state: 'quarantined',
      reason,
      nextAttemptAt: new Date(),
      recipients: [{ accountId: account.ownerAccountId, state: 'rejected', response: reason }],
    });
    await markDelivered(tx, account.id, message, { recipientCount: 0, contentHash: hash, recognized: false });
  });
}
