import { createHash } from 'node:crypto';
import { parseHeaders, type HeaderField } from '../../core/headers';
import { summarize, type MessageSummary } from '../../core/message-summary';
import type { FetchedRaw } from '../../mail/source';

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

export const contentHash = (raw: Buffer): string => createHash('sha256').update(raw).digest('hex');

/**
 * Reads a downloaded message's facts at once; delivery awaits them. A message whose facts cannot
 * be read fails when its group is delivered, so it fails alone there.
 */
export function arrived(fetched: FetchedRaw): ArrivedMessage {
  const facts = new Promise<MessageFacts>((resolve) =>
    resolve({ headers: parseHeaders(fetched.raw), contentHash: contentHash(fetched.raw), summary: summarize(fetched.raw) }),
  );
  facts.catch(() => undefined); // observed when the group is delivered
  return { ...fetched, facts };
}
