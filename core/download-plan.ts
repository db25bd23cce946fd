export interface ServerMessage {
  uid: string;
  size: number;
}

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

/** Picks the next batch, oldest first, among server messages not yet delivered. */
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
    if (delivered.has(message.uid)) continue;
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
