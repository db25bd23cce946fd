/** Where a remote message lives: folder and UIDVALIDITY are '' for POP3. */
export interface MessageRef {
  folder: string;
  uidvalidity: string;
  uid: string;
}

export interface ServerMessage extends MessageRef {
  size: number;
  /** the folder path with '/' as separator, for mirroring ('INBOX' for POP3) */
  localFolder: string;
  /** IMAP INTERNALDATE; null for POP3 */
  internalDate: Date | null;
  /** IMAP flags and keywords as the server reports them; empty for POP3 */
  flags: string[];
  /** POP3: the message number when it was listed; a later session checks it with UIDL n before use */
  number?: number;
}

/** One string per remote message, for sets and maps. */
export const messageKey = (ref: MessageRef): string => `${ref.folder}\n${ref.uidvalidity}\n${ref.uid}`;

export interface BatchLimits {
  /** most messages in one batch (one activity) */
  maxMessages: number;
  /** most bytes in one batch; a single larger message still goes alone */
  maxBytes: number;
  /** messages above this are left on the server and reported, never downloaded */
  maxMessageBytes: number;
}

/**
 * The next batch among candidates in download order: as many as fit the byte budget, at least
 * one (a single larger message still goes, alone), never skipping ahead, so order is kept.
 */
export function takeBatch<T extends { size: number }>(candidates: readonly T[], maxBytes: number): T[] {
  const batch: T[] = [];
  let bytes = 0;
  for (const message of candidates) {
    if (batch.length > 0 && bytes + message.size > maxBytes) break;
    batch.push(message);
    bytes += message.size;
  }
  return batch;
}
