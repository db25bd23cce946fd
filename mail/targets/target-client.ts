import type { RecipientOutcome } from '../../core/delivery-outcome';
import type { StoredDeliveryTarget } from '../../core/delivery-target';

/** One message for one delivery target, with the recipients that target serves. */
export interface Parcel {
  raw: Buffer;
  /** MAIL FROM; '' is the null sender */
  envelopeFrom: string;
  /** IMAP APPEND: the folder, the INTERNALDATE and the flags to keep */
  folder: string;
  internalDate: Date;
  flags: readonly string[];
  recipients: readonly { accountId: string; address: string }[];
}

/**
 * Told a parcel's outcomes (at least those the target accepted) as soon as the target answered,
 * before anything else goes out on that connection, so that what it accepted is recorded while
 * at most that one message is in flight.
 */
export type OnAnswer = (parcel: number, outcomes: ReadonlyMap<string, RecipientOutcome>) => Promise<void>;

/** A connection (pool) to one delivery target. */
export interface TargetClient {
  /** An outcome for every recipient of every parcel, keyed by account id; throws only what onAnswer throws. */
  deliver(parcels: readonly Parcel[], onAnswer: OnAnswer): Promise<Map<string, RecipientOutcome>[]>;
  close(): void;
}

/** The same outcome for every recipient of a parcel. */
export const allRecipients = (parcel: Parcel, outcome: RecipientOutcome): Map<string, RecipientOutcome> =>
  new Map(parcel.recipients.map((r) => [r.accountId, outcome]));

/**
 * The XOAUTH2 logins of local accounts into their own mailboxes, for IMAP targets with imapLogin
 * "oauth" (db/append-logins.ts). Throws a MailpullError saying why an account has none usable.
 */
export interface AppendCredentials {
  /** the user and an access token for it; `fresh`: mint a new one, the server refused the last */
  accessFor(target: StoredDeliveryTarget, accountId: string, fresh: boolean): Promise<{ username: string; accessToken: string }>;
}
