import { createHash } from 'node:crypto';
import type { PoolClient } from 'pg';
import { deliveryRetryDelayMs, dispositionOf, nextAttemptAt, type RecipientOutcome } from '../core/delivery-outcome';
import { classifyError, type ErrorKind } from '../core/errors';
import { routeRecipients } from '../core/delivery-routing';
import { envelopeSender } from '../core/envelope';
import { parseHeaders, type HeaderField } from '../core/headers';
import { summarize, type MessageSummary } from '../core/message-summary';
import { recognizeReturning } from '../core/pop3-identity';
import { receiveTime } from '../core/receive-time';
import { recognizeCopies } from '../core/recognition';
import { addTally, emptyTally, type Tally } from '../core/tally';
import { candidateAddresses, chooseRecipients, recipientDomainScope } from '../core/recipients';
import { domainIdOf, findDeliverableAccounts, isDeliverable } from '../db/accounts';
import { alreadyDelivered, recipientHomes, recipientKey, recordDeliveries, type SourceRef } from '../db/deliveries';
import { getStoredTarget } from '../db/delivery-targets';
import type { StoredExternalAccount } from '../db/external-accounts';
import { heldContents, insertHeld, type HeldRecipient } from '../db/held-messages';
import { storeMessage, storeMessages, storedCopies, type StoredMessageInput } from '../db/mailbox-store';
import { inTransaction, type Pool } from '../db/pool';
import { collectedPop3Copies, markDelivered, markDeliveredMany, noteFailure, recognizedCopies } from '../db/uid-index';
import type { FetchedRaw } from '../mail/source';
import type { Parcel, TargetClient } from '../mail/targets/target-client';
import type { TargetClients } from '../mail/targets/target-clients';
import type { Keyring } from '../secrets/keyring';

export interface DeliveryDeps {
  pool: Pool;
  keyring: Keyring;
  targets: TargetClients;
  /** first wait before a held message is tried again (MAILPULL_DELIVERY_RETRY_SECONDS) */
  retryBaseMs: number;
}

/** What became of a group (`failed` stays 0: a message whose own writes failed is in `failures`). */
export interface GroupOutcome extends Tally {
  /** why the last message held or quarantined was not delivered */
  lastReason: string | null;
  /** messages whose own writes failed (the others were committed): why */
  failures: { item: ArrivedMessage; reason: string }[];
}

/** A message on its way to the recipients that do not have it yet. */
export interface Item {
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

/** What delivery reads from a message's bytes: its header fields, summary and content hash. */
export interface MessageFacts {
  headers: HeaderField[];
  summary: MessageSummary;
  contentHash: string;
}

/** A downloaded message whose facts are being read while earlier ones commit. */
export interface ArrivedMessage extends FetchedRaw {
  facts: Promise<MessageFacts>;
}

/** Starts reading a downloaded message's facts at once; delivery awaits them (and their failure, if any). */
export function arrived(fetched: FetchedRaw): ArrivedMessage {
  const facts = (async (): Promise<MessageFacts> => ({
    headers: parseHeaders(fetched.raw),
    contentHash: contentHash(fetched.raw),
    summary: await summarize(fetched.raw),
  }))();
  facts.catch(() => undefined); // observed when the group is delivered
  return { ...fetched, facts };
}

/** The database refused the statements written together: each message is written alone instead. */
class RefusedTogether extends Error {}

/** A downloaded message as this account's current delivery generation records it. */
const sourceRef = (account: StoredExternalAccount, message: FetchedRaw['message']): SourceRef => ({
  externalAccountId: account.id,
  folder: message.folder,
  uidvalidity: message.uidvalidity,
  uid: message.uid,
  generation: account.deliveryGeneration,
});

/** Where a message goes in the recipient's mailbox: its remote folder when mirroring, else INBOX. */
const localFolderOf = (account: StoredExternalAccount, message: FetchedRaw['message']): string =>
  account.mirrorFolders ? message.localFolder : 'INBOX';

/** Failures of the database, the network or a lock say nothing about the message: the whole batch retries. */
const TRANSIENT: ReadonlySet<ErrorKind> = new Set(['database', 'network', 'timeout', 'busy']);
export const isTransient = (err: unknown): boolean => TRANSIENT.has(classifyError(err).kind);

/** Who gets a message nobody in its MIME headers claims: the forward-to account, else the owner. */
async function fallbackRecipient(pool: Pool, account: StoredExternalAccount): Promise<string> {
  if (account.mimeRecipients.enabled && account.forwardToAccountId && (await isDeliverable(pool, account.forwardToAccountId))) {
    return account.forwardToAccountId;
  }
  return account.ownerAccountId;
}

/**
 * Hands every item to the targets its recipients route to, all targets at once; recipients of
 * the built-in store are left to the commit. Each acceptance is recorded on its own as soon as
 * the target gives it (db/deliveries.ts), so whatever happens next, a retry never sends it to
 * that recipient again: a crash can resend only the message a connection had in flight. Never
 * throws for a target's failure (that is an outcome of its recipients), only when the record
 * cannot be written.
 */
export async function sendToTargets(
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
      const client = await clientOf(targetId);
      const outcomes =
        'status' in client
          ? entries.map((e) => new Map(e.parcel.recipients.map((r) => [r.accountId, client])))
          : await client.deliver(
              entries.map((e) => e.parcel),
              async (k, answered) => {
                const { ref, contentHash } = items[entries[k].item];
                const accepted = [...answered].filter(([, o]) => o.status === 'delivered');
                await recordDeliveries(
                  pool,
                  ref,
                  { targetId, contentHash },
                  accepted.map(([accountId, o]) => ({ accountId, response: o.response })),
                );
              },
            );
      entries.forEach(({ item, parcel }, k) => {
        for (const { accountId } of parcel.recipients) {
          const outcome = outcomes[k].get(accountId) ?? { status: 'temporary', response: 'the target gave no answer', unreachable: true };
          sent[item].set(accountId, { route: 'target', targetId, outcome });
        }
      });
    }),
  );
  return { sent, addresses: new Map([...homes].map(([id, h]) => [id, h.address])) };

  /** The target's client, or the outcome of every recipient if there is none to be had. */
  async function clientOf(targetId: string): Promise<TargetClient | RecipientOutcome> {
    try {
      const target = await getStoredTarget(pool, keyring, targetId);
      if (!target) throw new Error(`delivery target ${targetId} no longer exists`);
      return targets.get(target);
    } catch (err) {
      return { status: 'temporary', response: classifyError(err).message, unreachable: true };
    }
  }
}

/**
 * Stores the built-in store's copies in the caller's transaction, and sorts out what the targets
 * answered (their acceptances are recorded already). Returns the recipients still without the
 * message and every outcome.
 */
export async function commitOutcomes(
  tx: PoolClient,
  item: Item,
  sent: Map<string, Sent>,
): Promise<{ newly: boolean; remaining: HeldRecipient[]; outcomes: RecipientOutcome[] }> {
  let newly = false;
  const remaining: HeldRecipient[] = [];
  const outcomes: RecipientOutcome[] = [];
  for (const accountId of item.recipients) {
    const s = sent.get(accountId) ?? { route: 'store' };
    if (s.route === 'store') {
      newly = (await storeMessage(tx, storeInput(item, accountId))) || newly;
      continue;
    }
    outcomes.push(s.outcome);
    if (s.outcome.status === 'delivered') {
      newly = true;
    } else {
      remaining.push({ accountId, state: s.outcome.status === 'temporary' ? 'pending' : 'rejected', response: s.outcome.response });
    }
  }
  return { newly, remaining, outcomes };
}

/** A recipient's copy in the built-in store. */
const storeInput = (item: Item, accountId: string): StoredMessageInput => ({
  accountId,
  folder: item.localFolder,
  raw: item.raw,
  internalDate: item.internalDate,
  flags: item.flags,
  summary: item.summary,
  contentHash: item.contentHash,
  source: item.ref,
});

/** "address: answer" for each recipient without the message: the reason a held message shows. */
export const reasonOf = (remaining: readonly HeldRecipient[], addresses: ReadonlyMap<string, string>): string =>
  remaining.map((r) => `${addresses.get(r.accountId) ?? r.accountId}: ${r.response}`).join('; ');

/**
 * Resolves the local recipients of a group of downloaded messages and delivers each to every
 * recipient's route: the built-in store (in the commit) or a delivery target (before it). One
 * transaction then records it all with the UID index: a retry finds the group done or not done,
 * and recipients that have the message already are skipped. A message a target answered "later"
 * is held (still on the remote server); one it refused for good goes to quarantine. Copies of
 * messages delivered under an earlier UIDVALIDITY of the same folder are only marked delivered.
 */
export async function deliverGroup(
  deps: DeliveryDeps,
  account: StoredExternalAccount,
  group: readonly ArrivedMessage[],
): Promise<GroupOutcome> {
  const { pool } = deps;
  const facts = await Promise.all(group.map((m) => m.facts));
  const headers = facts.map((f) => f.headers);
  const hashes = facts.map((f) => f.contentHash);
  const candidates = headers.map((h) => candidateAddresses(h, account.mimeRecipients));
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
  // a recipient still waiting for an earlier hold of this very message (a reset index)
  const waiting: boolean[] = [];
  const items = group.map(({ message, raw }, i): Item => {
    const recipients = chooseRecipients(candidates[i], local, fallback);
    waiting[i] = recipients.some((id) => done.get(recipientKey(message, id)) === 'held');
    return {
      ref: sourceRef(account, message),
      raw,
      contentHash: hashes[i],
      internalDate: receiveTime(message.internalDate, headers[i], account.receiveTime, downloadedAt),
      flags: message.flags,
      localFolder: localFolderOf(account, message),
      envelopeFrom: envelopeSender(headers[i]),
      summary: facts[i].summary,
      recipients: recognized[i] ? [] : recipients.filter((id) => !done.has(recipientKey(message, id))),
    };
  });
  const { sent, addresses } = await sendToTargets(deps, account, items);
  const now = Date.now();
  // Copies recognised, and messages only for the built-in store, are written with two statements
  // together, first in the transaction; if the database refuses any of them, the transaction
  // starts again with each message written alone.
  const storeOnly = (i: number): boolean => !waiting[i] && items[i].recipients.every((id) => sent[i].get(id)?.route !== 'target');
  const together = group.map((_, i) => i).filter((i) => recognized[i] || storeOnly(i));
  if (together.length > 1) {
    try {
      return await inTransaction(pool, (tx) => commit(tx, together));
    } catch (err) {
      if (!(err instanceof RefusedTogether)) throw err;
    }
  }
  return inTransaction(pool, (tx) => commit(tx, []));

  async function commit(tx: PoolClient, together: readonly number[]): Promise<GroupOutcome> {
    const outcome: GroupOutcome = { ...emptyTally(), lastReason: null, failures: [] };
    if (together.length > 0) {
      try {
        addTally(outcome, await commitTogether(tx, together));
      } catch (err) {
        throw isTransient(err) ? err : new RefusedTogether('the statements written together were refused', { cause: err });
      }
    }
    const written = new Set(together);
    for (const i of group.keys()) {
      if (written.has(i)) continue;
      const { message } = group[i];
      const item = items[i];
      // One message's writes failing (bytes the database refuses) must not undo the others'.
      await tx.query('SAVEPOINT message');
      try {
        if (recognized[i]) {
          await markDelivered(tx, account.id, message, {
            recipientCount: 0,
            contentHash: item.contentHash,
            recognized: true,
            held: heldHashes.has(item.contentHash),
          });
          outcome.recognized++;
        } else {
          await commitItem(tx, item, message, sent[i], waiting[i]);
        }
        await tx.query('RELEASE SAVEPOINT message');
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT message');
        if (isTransient(err)) throw err;
        outcome.failures.push({ item: group[i], reason: classifyError(err).message });
      }
    }
    return outcome;

    async function commitTogether(tx: PoolClient, indices: readonly number[]): Promise<Tally> {
      const counts = emptyTally();
      const stores = indices.filter((i) => !recognized[i]).flatMap((i) => items[i].recipients.map((accountId) => ({ i, accountId })));
      const stored = await storeMessages(
        tx,
        stores.map(({ i, accountId }) => storeInput(items[i], accountId)),
      );
      const newly = new Set(stores.filter((_, k) => stored[k]).map(({ i }) => i));
      await markDeliveredMany(
        tx,
        account.id,
        indices.map((i) => ({
          message: group[i].message,
          delivery: recognized[i]
            ? { recipientCount: 0, contentHash: items[i].contentHash, recognized: true, held: heldHashes.has(items[i].contentHash) }
            : { recipientCount: items[i].recipients.length, contentHash: items[i].contentHash, recognized: false },
        })),
      );
      for (const i of indices) counts[recognized[i] || !newly.has(i) ? 'recognized' : 'delivered']++;
      return counts;
    }

    async function commitItem(
      tx: PoolClient,
      item: Item,
      message: FetchedRaw['message'],
      sent: Map<string, Sent>,
      waiting: boolean,
    ): Promise<void> {
      const { newly, remaining, outcomes } = await commitOutcomes(tx, item, sent);
      const disposition = dispositionOf(outcomes);
      if (disposition !== 'delivered') {
        outcome.lastReason = reasonOf(remaining, addresses);
        await insertHeld(tx, {
          ...item,
          state: disposition === 'held' ? 'pending' : 'quarantined',
          reason: outcome.lastReason,
          nextAttemptAt: nextAttemptAt(outcomes, now, deliveryRetryDelayMs(1, deps.retryBaseMs)),
          recipients: remaining,
        });
      }
      await markDelivered(tx, account.id, message, {
        recipientCount: item.recipients.length,
        contentHash: item.contentHash,
        recognized: false,
        held: disposition === 'held' || waiting,
      });
      // Nobody got it newly: every recipient had it already (a reset index without force).
      if (disposition === 'delivered') outcome[newly ? 'delivered' : 'recognized']++;
      else outcome[disposition]++;
    }
  }
}

/** A message that failed this often on its own is quarantined with its raw bytes. */
export const MAX_PROCESSING_FAILURES = 3;

export type IsolatedOutcome = Tally & { lastReason: string | null };

/**
 * Delivers a group as deliverGroup does, so that one message that cannot be parsed, stored or
 * delivered fails alone: if the group fails before its commit for anything but a transient
 * failure, each message is tried on its own. A failed message is tried again later, behind the
 * others, and after MAX_PROCESSING_FAILURES goes to quarantine with its raw bytes and the reason:
 * counted as kept, like a message a target refused.
 */
export async function deliverIsolated(
  deps: DeliveryDeps,
  account: StoredExternalAccount,
  group: readonly ArrivedMessage[],
): Promise<IsolatedOutcome> {
  const total: IsolatedOutcome = { ...emptyTally(), lastReason: null };
  const failures: GroupOutcome['failures'] = [];
  const add = (one: GroupOutcome): void => {
    addTally(total, one);
    total.lastReason = one.lastReason ?? total.lastReason;
    failures.push(...one.failures);
  };
  try {
    add(await deliverGroup(deps, account, group));
  } catch (err) {
    if (isTransient(err)) throw err;
    if (group.length === 1) failures.push({ item: group[0], reason: classifyError(err).message });
    else
      for (const item of group) {
        try {
          add(await deliverGroup(deps, account, [item]));
        } catch (one) {
          if (isTransient(one)) throw one;
          failures.push({ item, reason: classifyError(one).message });
        }
      }
  }
  for (const { item, reason } of failures) {
    total.lastReason = `could not be processed: ${reason}`;
    if ((await noteFailure(deps.pool, account.id, item.message, total.lastReason)) >= MAX_PROCESSING_FAILURES) {
      await quarantineUnprocessable(deps, account, item, total.lastReason);
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
  item: FetchedRaw,
  reason: string,
): Promise<void> {
  const { message, raw } = item;
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
