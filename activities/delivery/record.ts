import type { RecipientOutcome } from '../../core/delivery-outcome';
import { classifyError, type ErrorKind } from '../../core/errors';
import type { MessageSummary } from '../../core/message-summary';
import type { Tally } from '../../core/tally';
import type { SourceRef } from '../../db/deliveries';
import type { StoredExternalAccount } from '../../db/external-accounts';
import type { HeldRecipient } from '../../db/held-messages';
import type { Pool } from '../../db/pool';
import type { FetchedRaw } from '../../mail/source';
import type { TargetClients } from '../../mail/targets/target-clients';
import type { Keyring } from '../../secrets/keyring';
import type { ArrivedMessage } from './facts';

/*
 * Delivery is a pipeline of records, one per message: plan.ts reads its facts and chooses its
 * recipients (DeliveryRecord), send.ts routes each recipient and hands the message to the targets
 * (Routed), commit.ts writes the store, the held messages and the UID index in one transaction,
 * and isolate.ts makes a message that cannot be processed fail alone. held-retry.ts sends and
 * commits held messages' records the same way.
 */

export interface DeliveryDeps {
  pool: Pool;
  keyring: Keyring;
  targets: TargetClients;
  /** first wait before a held message is tried again (MAILPULL_DELIVERY_RETRY_SECONDS) */
  retryBaseMs: number;
}

/** A message on its way to the recipients that do not have it yet. */
export interface Letter {
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
export type Routed = { route: 'store' } | { route: 'target'; targetId: string; outcome: RecipientOutcome };

/** One downloaded message, planned: its letter and what the index knows of it. */
export interface DeliveryRecord {
  arrived: ArrivedMessage;
  letter: Letter;
  /** a copy of a message delivered already (an earlier UIDVALIDITY, a POP3 key served again): only marked delivered */
  recognized: boolean;
  /** a recognised copy still held for a target: collected, not delivered, so the remote copy stays */
  heldCopy: boolean;
  /** a recipient still waits for an earlier hold of this very message (a reset index) */
  waiting: boolean;
}

/** A record after send: each recipient's route and, for a target, its answer. */
export type SentRecord<R> = R & { routed: Map<string, Routed> };

/** A message whose own writes failed, and why. */
export interface MessageFailure {
  message: ArrivedMessage;
  reason: string;
}

/** What became of a group (`failed` stays 0: a message whose own writes failed is in `failures`). */
export interface GroupOutcome extends Tally {
  /** why the last message held or quarantined was not delivered */
  lastReason: string | null;
  /** messages whose own writes failed (the others were committed): why */
  failures: MessageFailure[];
}

/** What a commit needs beside its records. */
export interface CommitContext {
  account: StoredExternalAccount;
  /** the recipients' addresses, for the reasons held and quarantined messages show */
  addresses: ReadonlyMap<string, string>;
  retryBaseMs: number;
  /** when the targets had answered */
  now: number;
}

/** A downloaded message as this account's current delivery generation records it. */
export const sourceRef = (account: StoredExternalAccount, message: FetchedRaw['message']): SourceRef => ({
  externalAccountId: account.id,
  folder: message.folder,
  uidvalidity: message.uidvalidity,
  uid: message.uid,
  generation: account.deliveryGeneration,
});

/** Where a message goes in the recipient's mailbox: its remote folder when mirroring, else INBOX. */
export const localFolderOf = (account: StoredExternalAccount, message: FetchedRaw['message']): string =>
  account.mirrorFolders ? message.localFolder : 'INBOX';

/** Failures of the database, the network or a lock say nothing about the message: the whole batch retries. */
const TRANSIENT: ReadonlySet<ErrorKind> = new Set(['database', 'network', 'timeout', 'busy']);
export const isTransient = (err: unknown): boolean => TRANSIENT.has(classifyError(err).kind);

/** "address: answer" for each recipient without the message: the reason a held message shows. */
export const reasonOf = (remaining: readonly HeldRecipient[], addresses: ReadonlyMap<string, string>): string =>
  remaining.map((r) => `${addresses.get(r.accountId) ?? r.accountId}: ${r.response}`).join('; ');
