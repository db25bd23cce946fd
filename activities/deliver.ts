import { createHash } from 'node:crypto';
import { parseHeaders } from '../core/headers';
import { summarize } from '../core/message-summary';
import { receiveTime } from '../core/receive-time';
import { recognizeCopies } from '../core/recognition';
import { candidateAddresses, chooseRecipients } from '../core/recipients';
import { findDeliverableAccounts, isDeliverable } from '../db/accounts';
import type { StoredExternalAccount } from '../db/external-accounts';
import { storeMessage, storedCopies } from '../db/mailbox-store';
import { inTransaction, type Pool } from '../db/pool';
import { markDelivered, recognizedCopies } from '../db/uid-index';
import type { Fetched } from '../mail/source';

export interface GroupOutcome {
  /** stored for at least one recipient */
  delivered: number;
  /** already delivered before (an earlier UIDVALIDITY, or a reset index): marked delivered, not stored again */
  recognized: number;
}

const contentHash = (raw: Buffer): string => createHash('sha256').update(raw).digest('hex');

/** Who gets a message nobody in its MIME headers claims: the forward-to account, else the owner. */
async function fallbackRecipient(pool: Pool, account: StoredExternalAccount): Promise<string> {
  if (account.mimeRecipients.enabled && account.forwardToAccountId && (await isDeliverable(pool, account.forwardToAccountId))) {
    return account.forwardToAccountId;
  }
  return account.ownerAccountId;
}

/**
 * Resolves the local recipients of a group of downloaded messages and stores one copy of each
 * for each recipient, marking them delivered in the UID index in the same transaction: a retry
 * after a crash finds them delivered (or none of them, never half), and the store's unique key
 * refuses a second copy either way. Copies of messages already delivered under an earlier
 * UIDVALIDITY of the same folder are only marked delivered.
 */
export async function deliverToStore(pool: Pool, account: StoredExternalAccount, group: readonly Fetched[]): Promise<GroupOutcome> {
  const headers = group.map(({ raw }) => parseHeaders(raw));
  const candidates = headers.map((h) => candidateAddresses(h, account.mimeRecipients));
  const local = await findDeliverableAccounts(pool, [...new Set(candidates.flat())]);
  const fallback = await fallbackRecipient(pool, account);
  const summaries = await Promise.all(group.map(({ raw }) => summarize(raw)));
  const hashes = group.map(({ raw }) => contentHash(raw));
  const downloadedAt = new Date();
  return inTransaction(pool, async (tx) => {
    const recognized = recognizeCopies(
      group.map(({ message }, i) => ({ folder: message.folder, uidvalidity: message.uidvalidity, contentHash: hashes[i] })),
      await storedCopies(tx, account.id, account.deliveryGeneration, hashes),
      await recognizedCopies(tx, account.id, hashes),
    );
    const outcome: GroupOutcome = { delivered: 0, recognized: 0 };
    for (const [i, { message, raw }] of group.entries()) {
      if (recognized[i]) {
        await markDelivered(tx, account.id, message, { recipientCount: 0, contentHash: hashes[i], recognized: true });
        outcome.recognized++;
        continue;
      }
      const recipients = chooseRecipients(candidates[i], local, fallback);
      let stored = false;
      for (const accountId of recipients) {
        const inserted = await storeMessage(tx, {
          accountId,
          folder: account.mirrorFolders ? message.localFolder : 'INBOX',
          raw,
          internalDate: receiveTime(message.internalDate, headers[i], account.receiveTime, downloadedAt),
          flags: message.flags,
          summary: summaries[i],
          contentHash: hashes[i],
          source: {
            externalAccountId: account.id,
            folder: message.folder,
            uidvalidity: message.uidvalidity,
            uid: message.uid,
            generation: account.deliveryGeneration,
          },
        });
        stored ||= inserted;
      }
      await markDelivered(tx, account.id, message, { recipientCount: recipients.length, contentHash: hashes[i], recognized: false });
      // Not stored for anyone: the store already had it (a reset index without force).
      if (stored) outcome.delivered++;
      else outcome.recognized++;
    }
    return outcome;
  });
}
