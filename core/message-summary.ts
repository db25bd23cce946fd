import { Headers } from '@zone-eu/mailsplit';
import { MailParser } from 'mailparser';
import { parseHeaders, type HeaderField } from './headers';
import { safeTextOrNull } from './safe-text';

export interface MessageSummary {
  subject: string | null;
  from: string | null;
  messageId: string | null;
}

/**
 * Raw characters of each summarised field handed to the MIME decoder: enough encoded words for
 * a summary cut to MAX_TEXT_LENGTH characters (a Q-encoded 3-byte character takes 9).
 */
export const MAX_SUMMARY_FIELD_LENGTH = 16 * 1024;

const NONE: MessageSummary = { subject: null, from: null, messageId: null };
const SUMMARY_FIELDS = ['subject', 'from', 'message-id'];

/** The last of each summarised field, as mailparser keeps the last one too. */
function summaryFields(headers: readonly HeaderField[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const { name, value } of headers) {
    if (SUMMARY_FIELDS.includes(name)) fields.set(name, value.slice(0, MAX_SUMMARY_FIELD_LENGTH));
  }
  return fields;
}

/** What mailparser's header decoding gives for the summarised fields (not in its typings). */
interface DecodedHeaders {
  processHeaders(lines: unknown): Map<string, unknown>;
}

/**
 * mailparser's own header decoding (RFC 2047 words, charsets, addresses), called directly: its
 * streams cost more per message than the decoding of three fields (simpleParser did the same
 * through them). It keeps no state between calls, so one instance serves every message.
 */
let decoder: DecodedHeaders | null = null;
const decoderOf = (): DecodedHeaders => (decoder ??= new MailParser() as unknown as DecodedHeaders);

/**
 * Decoded subject, From and Message-ID from the header section, fit for Postgres text (see
 * safeText). The fields are read by parseHeaders (bounded, linear) and only those three,
 * each cut to MAX_SUMMARY_FIELD_LENGTH, are split into header lines as mailparser splits them
 * and decoded by it. Malformed MIME yields nulls, never an error.
 */
export function summarize(raw: Buffer): MessageSummary {
  try {
    const fields = summaryFields(parseHeaders(raw));
    if (fields.size === 0) return NONE;
    const head = [...fields].map(([name, value]) => `${name}: ${value}\r\n`).join('');
    const decoded = decoderOf().processHeaders(new Headers(Buffer.from(`${head}\r\n`, 'latin1')).getList());
    const from = decoded.get('from') as { text?: string } | undefined;
    return {
      subject: safeTextOrNull(decoded.get('subject') as string | undefined),
      from: safeTextOrNull(from?.text),
      messageId: safeTextOrNull(decoded.get('message-id') as string | undefined),
    };
  } catch {
    return NONE;
  }
}
