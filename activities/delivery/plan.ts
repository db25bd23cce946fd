import { envelopeSender } from '../../core/envelope';
import { recognizeReturning } from '../../core/pop3-identity';
import { receiveTime } from '../../core/receive-time';
import { recognizeCopies } from '../../core/recognition';
import { candidateAddresses, chooseRecipients, recipientDomainScope } from '../../core/recipients';
import { domainIdOf, findDeliverableAccounts, isDeliverable } from '../../db/accounts';
import { alreadyDelivered, recipientKey } from '../../db/deliveries';
import type { StoredExternalAccount } from '../../db/external-accounts';
import { heldContents } from '../../db/held-messages';
import { storedCopies } from '../../db/mailbox-store';
import type { Pool } from '../../db/pool';
import { collectedPop3Copies, recognizedCopies } from '../../db/uid-index';
import type { ArrivedMessage } from './facts';
import { localFolderOf, sourceRef, type DeliveryRecord } from './record';

/** Who gets a message nobody in its MIME headers claims: the forward-to account, else the owner. */
async function fallbackRecipient(pool: Pool, account: StoredExternalAccount): Promise<string> {
  if (account.mimeRecipients.enabled && account.forwardToAccountId && (await isDeliverable(pool, account.forwardToAccountId))) {
    return account.forwardToAccountId;
  }
  return account.ownerAccountId;
}

/**
 * The first stage: reads each downloaded message's facts, resolves its local recipients, and
 * leaves out those who have it already; a copy of a message delivered under an earlier UIDVALIDITY
 * of the same folder (or, POP3, under another key) gets no recipients and is only marked delivered.
 * A handful of queries for the whole group, none per message.
 */
export async function planDeliveries(
  pool: Pool,
  account: StoredExternalAccount,
  group: readonly ArrivedMessage[],
): Promise<DeliveryRecord[]> {
  const facts = await Promise.all(group.map((m) => m.facts));
  const hashes = facts.map((f) => f.contentHash);
  const candidates = facts.map((f) => candidateAddresses(f.headers, account.mimeRecipients));
  const ownerDomain = await domainIdOf(pool, account.ownerAccountId);
  const scope = ownerDomain === null ? null : recipientDomainScope(account.mimeRecipients, ownerDomain);
  const local = await findDeliverableAccounts(pool, [...new Set(candidates.flat())], scope);
  const fallback = await fallbackRecipient(pool, account);
  const downloadedAt = new Date();
  const generation = account.deliveryGeneration;
  // An IMAP message may be a copy from an earlier UIDVALIDITY; a POP3 one ('' folder) a delivered
  // message served again under another key (see core/pop3-identity.ts).
  const imap = group.some(({ message }) => message.folder !== '');
  const recognized = imap
    ? recognizeCopies(
        group.map(({ message }, i) => ({ folder: message.folder, uidvalidity: message.uidvalidity, contentHash: hashes[i] })),
        await storedCopies(pool, account.id, generation, hashes),
        await recognizedCopies(pool, account.id, hashes),
      )
    : recognizeReturning(hashes, await collectedPop3Copies(pool, account.id, hashes));
  // Copies still held for a target count as collected, not delivered: the remote copy stays until a target takes them.
  const heldHashes = recognized.includes(true) ? await heldContents(pool, account.id, generation, hashes) : new Set<string>();
  const done = await alreadyDelivered(
    pool,
    account.id,
    generation,
    group.map(({ message }) => message),
  );
  return group.map((arrived, i): DeliveryRecord => {
    const { message, raw } = arrived;
    const { headers, summary, contentHash } = facts[i];
    const recipients = chooseRecipients(candidates[i], local, fallback);
    return {
      arrived,
      letter: {
        ref: sourceRef(account, message),
        raw,
        contentHash,
        internalDate: receiveTime(message.internalDate, headers, account.receiveTime, downloadedAt),
        flags: message.flags,
        localFolder: localFolderOf(account, message),
        envelopeFrom: envelopeSender(headers),
        summary,
        recipients: recognized[i] ? [] : recipients.filter((id) => !done.has(recipientKey(message, id))),
      },
      recognized: recognized[i],
      heldCopy: recognized[i] && heldHashes.has(contentHash),
      waiting: recipients.some((id) => done.get(recipientKey(message, id)) === 'held'),
    };
  });
}
