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

export interface DownloadPlan {
  batch: ServerMessage[];
  tooLarge: ServerMessage[];
  /** undelivered messages that fit but did not fit into this batch */
  remaining: number;
}

/** Picks the next batch, oldest first, among server messages not yet delivered (by messageKey). */
export function planDownloads(
  onServer: readonly ServerMessage[],
  delivered: ReadonlySet<string>,
  limits: BatchLimits,
): DownloadPlan {
  const batch: ServerMessage[] = [];
  const tooLarge: ServerMessage[] = [];
  let bytes = 0;
  let remaining = 0;
  for (const message of onServer) {
    if (delivered.has(messageKey(message))) continue;
    if (message.size > limits.maxMessageBytes) {
      tooLarge.push(message);
      continue;
    }
    const fits =
      batch.length < limits.maxMessages && (batch.length === 0 || bytes + message.size <= limits.maxBytes);
    if (fits && remaining === 0) {
      batch.push(message);
      bytes += message.size;
    } else {
      remaining++;
    }
  }
  return { batch, tooLarge, remaining };
}
