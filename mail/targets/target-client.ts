import type { RecipientOutcome } from '../../core/delivery-outcome';

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
