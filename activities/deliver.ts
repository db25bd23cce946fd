import type { ServerMessage } from '../core/download-plan';
import { parseHeaders } from '../core/headers';
import { summarize } from '../core/message-summary';
import { candidateAddresses, chooseRecipients } from '../core/recipients';
import { findDeliverableAccounts } from '../db/accounts';
import type { StoredExternalAccount } from '../db/external-accounts';
import { storeMessage } from '../db/mailbox-store';
import { inTransaction, type Pool } from '../db/pool';
import { markDelivered } from '../db/uid-index';

export interface Downloaded {
  message: ServerMessage;
  raw: Buffer;
}

/**
 * Resolves the local recipients of a group of downloaded messages and stores one copy of each
 * for each recipient, marking them delivered in the UID index in the same transaction: a retry
 * after a crash finds them delivered (or none of them, never half), and the store's unique key
 * refuses a second copy either way.
 */
export async function deliverToStore(pool: Pool, account: StoredExternalAccount, group: readonly Downloaded[]): Promise<void> {
  const candidates = group.map(({ raw }) => candidateAddresses(parseHeaders(raw), account.mimeRecipients));
  const local = await findDeliverableAccounts(pool, [...new Set(candidates.flat())]);
  const summaries = await Promise.all(group.map(({ raw }) => summarize(raw)));
  const receivedAt = new Date();
  await inTransaction(pool, async (tx) => {
    for (const [i, { message, raw }] of group.entries()) {
      const recipients = chooseRecipients(candidates[i], local, account.ownerAccountId);
      for (const accountId of recipients) {
        await storeMessage(tx, {
          accountId,
          folder: 'INBOX',
          raw,
          internalDate: receivedAt,
          flags: [],
          summary: summaries[i],
          source: { externalAccountId: account.id, uid: message.uid },
        });
      }
      await markDelivered(tx, account.id, message, recipients.length);
    }
  });
}
