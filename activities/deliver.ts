import type { ServerMessage } from '../core/download-plan';
import { parseHeaders } from '../core/headers';
import { summarize } from '../core/message-summary';
import { candidateAddresses, chooseRecipients } from '../core/recipients';
import { findDeliverableAccounts } from '../db/accounts';
import { storeMessage } from '../db/mailbox-store';
import { inTransaction, type Pool } from '../db/pool';
import { markDelivered } from '../db/uid-index';
import type { StoredExternalAccount } from '../db/external-accounts';

/**
 * Resolves a downloaded message's local recipients and stores one copy for each, marking it
 * delivered in the UID index in the same transaction: a retry after a crash finds it delivered,
 * and the store's unique key refuses a second copy either way.
 */
export async function deliverToStore(
  pool: Pool,
  account: StoredExternalAccount,
  message: ServerMessage,
  raw: Buffer,
): Promise<number> {
  const candidates = candidateAddresses(parseHeaders(raw), account.mimeRecipients);
  const local = await findDeliverableAccounts(pool, candidates);
  const recipients = chooseRecipients(candidates, local, account.ownerAccountId);
  const summary = await summarize(raw);
  const receivedAt = new Date();
  await inTransaction(pool, async (tx) => {
    for (const accountId of recipients) {
      await storeMessage(tx, {
        accountId,
        folder: 'INBOX',
        raw,
        internalDate: receivedAt,
        flags: [],
        summary,
        source: { externalAccountId: account.id, uid: message.uid },
      });
    }
    await markDelivered(tx, account.id, message, recipients.length);
  });
  return recipients.length;
}
