import { createHash } from 'node:crypto';
import { deliveryRetryDelayMs, dispositionOf, HOLD_LIMIT_DAYS, type RecipientOutcome } from '../core/delivery-outcome';
import { classifyError } from '../core/errors';
import { routeRecipients } from '../core/delivery-routing';
import { envelopeSender } from '../core/envelope';
import { parseHeaders } from '../core/headers';
import { summarize, type MessageSummary } from '../core/message-summary';
import { receiveTime } from '../core/receive-time';
import { recognizeCopies } from '../core/recognition';
import { candidateAddresses, chooseRecipients } from '../core/recipients';
import { findDeliverableAccounts, isDeliverable } from '../db/accounts';
import { alreadyDelivered, recipientHomes, recipientKey, recordDelivery, type SourceRef } from '../db/deliveries';
import { getStoredTarget } from '../db/delivery-targets';
import type { StoredExternalAccount } from '../db/external-accounts';
import { insertHeld, recordHeldAttempt, type HeldMessage, type HeldRecipient } from '../db/held-messages';
import { storeMessage, storedCopies } from '../db/mailbox-store';
import { inTransaction, type Pool, type Queryable } from '../db/pool';
import { markDelivered, markHeldDone, recognizedCopies } from '../db/uid-index';
import type { FetchedRaw } from '../mail/source';
import type { Parcel } from '../mail/targets/target-client';
import type { TargetClients } from '../mail/targets/target-clients';
import type { Keyring } from '../secrets/keyring';

export interface DeliveryDeps {
  pool: Pool;
  keyring: Keyring;
  targets: TargetClients;
  /** first wait before a held message is tried again (MAILPULL_DELIVERY_RETRY_SECONDS) */
  retryBaseMs: number;
}

export interface GroupOutcome {
  /** every recipient has it now (stored or accepted by its target), at least one of them newly */
  delivered: number;
  /** already delivered before (an earlier UIDVALIDITY, or a reset index): marked delivered, not delivered again */
  recognized: number;
  /** a target answered "later" (or did not answer): held for a retry, left on the remote server */
  held: number;
  /** a target refused it for good: kept in quarantine */
  quarantined: number;
  /** why the last message held or quarantined was not delivered */
  lastReason: string | null;
}

export type HeldOutcome = Pick<GroupOutcome, 'delivered' | 'held' | 'quarantined' | 'lastReason'>;

/** A message on its way to the recipients that do not have it yet. */
interface Item {
  ref: SourceRef;
  raw: Buffer;
  contentHash: string;
  internalDate: Date;
  flags: string[];
  localFolder: string;
  envelopeFrom: string;
  summary: MessageSummary;
  recipients: string[];
}

/** What happened to one recipient: stored in the built-in store (in the commit), or its target's answer. */
type Sent = { route: 'store' } | { route: 'target'; targetId: string; outcome: RecipientOutcome };

const contentHash = (raw: Buffer): string => createHash('sha256').update(raw).digest('hex');

/** Who gets a message nobody in its MIME headers claims: the forward-to account, else the owner. */
async function fallbackRecipient(pool: Pool, account: StoredExternalAccount): Promise<string> {
  if (account.mimeRecipients.enabled && account.forwardToAccountId && (await isDeliverable(pool, account.forwardToAccountId))) {
    return account.forwardToAccountId;
  }
  return account.ownerAccountId;
}

/**
 * Hands every item to the targets its recipients route to, all targets at once; recipients of
 * the built-in store are left to the commit. Never throws for a target's failure: that is an
 * outcome of its recipients.
 */
async function sendToTargets(
  { pool, keyring, targets }: DeliveryDeps,
  account: StoredExternalAccount,
  items: readonly Item[],
): Promise<{ sent: Map<string, Sent>[]; addresses: Map<string, string> }> {
  const homes = await recipientHomes(pool, [...new Set(items.flatMap((i) => i.recipients))]);
  const sent = items.map(() => new Map<string, Sent>());
  const byTarget = new Map<string, { item: number; parcel: Parcel }[]>();
  items.forEach((item, n) => {
    const routes = routeRecipients(
      item.recipients.flatMap((id) => homes.get(id) ?? []),
      account.delivery,
    );
    const parcels = new Map<string, Parcel & { recipients: { accountId: string; address: string }[] }>();
    for (const accountId of item.recipients) {
      const route = routes.get(accountId) ?? 'store';
      if (route === 'store') {
        sent[n].set(accountId, { route: 'store' });
        continue;
      }
      const parcel = parcels.get(route) ?? {
        raw: item.raw,
        envelopeFrom: item.envelopeFrom,
        folder: item.localFolder,
        internalDate: item.internalDate,
        flags: item.flags,
        recipients: [],
      };
      parcel.recipients.push({ accountId, address: homes.get(accountId)?.address ?? '' });
      parcels.set(route, parcel);
    }
    for (const [targetId, parcel] of parcels) byTarget.set(targetId, [...(byTarget.get(targetId) ?? []), { item: n, parcel }]);
  });
  await Promise.all(
    [...byTarget].map(async ([targetId, entries]) => {
      let outcomes: Map<string, RecipientOutcome>[];
      try {
        const target = await getStoredTarget(pool, keyring, targetId);
        if (!target) throw new Error(`delivery target ${targetId} no longer exists`);
        outcomes = await targets.get(target).deliver(entries.map((e) => e.parcel));
      } catch (err) {
        const outcome: RecipientOutcome = { status: 'temporary', response: classifyError(err).message };
        outcomes = entries.map((e) => new Map(e.parcel.recipients.map((r) => [r.accountId, outcome])));
      }
      entries.forEach(({ item, parcel }, k) => {
        for (const { accountId } of parcel.recipients) {
          const outcome = outcomes[k].get(accountId) ?? { status: 'temporary', response: 'the target gave no answer' };
          sent[item].set(accountId, { route: 'target', targetId, outcome });
        }
      });
    }),
  );
  return { sent, addresses: new Map([...homes].map(([id, h]) => [id, h.address])) };
}

/**
 * Writes what the targets answered, and stores the built-in store's copies, in the caller's
 * transaction. Returns the recipients still without the message and every outcome.
 */
async function commitOutcomes(
  tx: Queryable,
  item: Item,
  sent: Map<string, Sent>,
): Promise<{ newly: boolean; remaining: HeldRecipient[]; outcomes: RecipientOutcome[] }> {
  let newly = false;
  const remaining: HeldRecipient[] = [];
  const outcomes: RecipientOutcome[] = [];
  for (const accountId of item.recipients) {
    const s = sent.get(accountId) ?? { route: 'store' };
    if (s.route === 'store') {
      newly =
        (await storeMessage(tx, {
          accountId,
          folder: item.localFolder,
          raw: item.raw,
          internalDate: item.internalDate,
          flags: item.flags,
          summary: item.summary,
          contentHash: item.contentHash,
          source: item.ref,
        })) || newly;
      continue;
    }
    outcomes.push(s.outcome);
    if (s.outcome.status === 'delivered') {
      await recordDelivery(tx, item.ref, { accountId, targetId: s.targetId, contentHash: item.contentHash, response: s.outcome.response });
      newly = true;
    } else {
      remaining.push({ accountId, state: s.outcome.status === 'temporary' ? 'pending' : 'rejected', response: s.outcome.response });
    }
  }
  return { newly, remaining, outcomes };
}

/** "address: answer" for each recipient without the message: the reason a held message shows. */
const reasonOf = (remaining: readonly HeldRecipient[], addresses: ReadonlyMap<string, string>): string =>
  remaining.map((r) => `${addresses.get(r.accountId) ?? r.accountId}: ${r.response}`).join('; ');

/**
 * Resolves the local recipients of a group of downloaded messages and delivers each to every
 * recipient's route: the built-in store (in the commit) or a delivery target (before it). One
 * transaction then records it all with the UID index: a retry finds the group done or not done,
 * and recipients that have the message already are skipped. A message a target answered "later"
 * is held (still on the remote server); one it refused for good goes to quarantine. Copies of
 * messages delivered under an earlier UIDVALIDITY of the same folder are only marked delivered.
 */
export async function deliverGroup(deps: DeliveryDeps, account: StoredExternalAccount, group: readonly FetchedRaw[]): Promise<GroupOutcome> {
  const { pool } = deps;
  const headers = group.map(({ raw }) => parseHeaders(raw));
  const candidates = headers.map((h) => candidateAddresses(h, account.mimeRecipients));
  const local = await findDeliverableAccounts(pool, [...new Set(candidates.flat())]);
  const fallback = await fallbackRecipient(pool, account);
  const summaries = await Promise.all(group.map(({ raw }) => summarize(raw)));
  const hashes = group.map(({ raw }) => contentHash(raw));
  const downloadedAt = new Date();
  const generation = account.deliveryGeneration;
  const recognized = recognizeCopies(
    group.map(({ message }, i) => ({ folder: message.folder, uidvalidity: message.uidvalidity, contentHash: hashes[i] })),
    await storedCopies(pool, account.id, generation, hashes),
    await recognizedCopies(pool, account.id, hashes),
  );
  const done = await alreadyDelivered(pool, account.id, generation, group.map(({ message }) => message));
  const items = group.map(({ message, raw }, i): Item => {
    const recipients = chooseRecipients(candidates[i], local, fallback);
    return {
      ref: { externalAccountId: account.id, folder: message.folder, uidvalidity: message.uidvalidity, uid: message.uid, generation },
      raw,
      contentHash: hashes[i],
      internalDate: receiveTime(message.internalDate, headers[i], account.receiveTime, downloadedAt),
      flags: message.flags,
      localFolder: account.mirrorFolders ? message.localFolder : 'INBOX',
      envelopeFrom: envelopeSender(headers[i]),
      summary: summaries[i],
      recipients: recognized[i] ? [] : recipients.filter((id) => !done.has(recipientKey(message, id))),
    };
  });
  const { sent, addresses } = await sendToTargets(deps, account, items);
  const now = Date.now();
  return inTransaction(pool, async (tx) => {
    const outcome: GroupOutcome = { delivered: 0, recognized: 0, held: 0, quarantined: 0, lastReason: null };
    for (const [i, { message }] of group.entries()) {
      const item = items[i];
      if (recognized[i]) {
        await markDelivered(tx, account.id, message, { recipientCount: 0, contentHash: item.contentHash, recognized: true });
        outcome.recognized++;
        continue;
      }
      const { newly, remaining, outcomes } = await commitOutcomes(tx, item, sent[i]);
      const disposition = dispositionOf(outcomes);
      if (disposition !== 'delivered') {
        outcome.lastReason = reasonOf(remaining, addresses);
        await insertHeld(tx, {
          ...item,
          state: disposition === 'held' ? 'pending' : 'quarantined',
          reason: outcome.lastReason,
          nextAttemptAt: new Date(now + deliveryRetryDelayMs(1, deps.retryBaseMs)),
          recipients: remaining,
        });
      }
      await markDelivered(tx, account.id, message, {
        recipientCount: item.recipients.length,
        contentHash: item.contentHash,
        recognized: false,
        held: disposition === 'held',
      });
      // Nobody got it newly: every recipient had it already (a reset index without force).
      if (disposition === 'delivered') outcome[newly ? 'delivered' : 'recognized']++;
      else outcome[disposition]++;
    }
    return outcome;
  });
}

/**
 * Tries again the held messages' pending recipients, on the routes they have now (an admin may
 * have fixed or changed the target). A message every recipient has is released; one with only
 * refusals left, or held past the limit, goes to quarantine; the rest waits a little longer.
 */
export async function deliverHeld(deps: DeliveryDeps, account: StoredExternalAccount, held: readonly HeldMessage[]): Promise<HeldOutcome> {
  const items = held.map(
    (h): Item => ({
      ref: h.ref,
      raw: h.raw,
      contentHash: h.contentHash,
      internalDate: h.internalDate,
      flags: h.flags,
      localFolder: h.localFolder,
      envelopeFrom: h.envelopeFrom,
      summary: h.summary,
      recipients: h.recipients.filter((r) => r.state === 'pending').map((r) => r.accountId),
    }),
  );
  const { sent, addresses } = await sendToTargets(deps, account, items);
  const now = Date.now();
  return inTransaction(deps.pool, async (tx) => {
    const outcome: HeldOutcome = { delivered: 0, held: 0, quarantined: 0, lastReason: null };
    for (const [i, h] of held.entries()) {
      const result = await commitOutcomes(tx, items[i], sent[i]);
      const refused = h.recipients.filter((r) => r.state === 'rejected');
      const outcomes = [...result.outcomes, ...refused.map((r): RecipientOutcome => ({ status: 'permanent', response: r.response }))];
      const disposition = dispositionOf(outcomes, now - h.createdAt.getTime());
      const remaining = [...refused, ...result.remaining].map((r) =>
        disposition === 'quarantined' && r.state === 'pending' ? { ...r, state: 'rejected' as const } : r,
      );
      const reason =
        disposition === 'quarantined' && result.remaining.some((r) => r.state === 'pending')
          ? `not accepted within ${HOLD_LIMIT_DAYS} days: ${reasonOf(remaining, addresses)}`
          : reasonOf(remaining, addresses);
      if (disposition !== 'delivered') outcome.lastReason = reason;
      await recordHeldAttempt(tx, h.id, {
        state: disposition === 'held' ? 'pending' : 'quarantined',
        reason,
        nextAttemptAt: new Date(now + deliveryRetryDelayMs(h.attempts + 1, deps.retryBaseMs)),
        recipients: disposition === 'delivered' ? [] : remaining,
      });
      if (disposition !== 'held') await markHeldDone(tx, account.id, h.ref);
      outcome[disposition === 'held' ? 'held' : disposition]++;
    }
    return outcome;
  });
}
