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

/** A connection (pool) to one delivery target. */
export interface TargetClient {
  /** An outcome for every recipient of every parcel, keyed by account id; never throws. */
  deliver(parcels: readonly Parcel[]): Promise<Map<string, RecipientOutcome>[]>;
  close(): void;
}

/** The same outcome for every recipient of a parcel. */
export const allRecipients = (parcel: Parcel, outcome: RecipientOutcome): Map<string, RecipientOutcome> =>
  new Map(parcel.recipients.map((r) => [r.accountId, outcome]));
