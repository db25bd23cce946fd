import { simpleParser } from 'mailparser';
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

/**
 * Decoded subject, From and Message-ID from the header section, fit for Postgres text (see
 * safeText). The fields are read by parseHeaders (bounded, linear) and only those three,
 * each cut to MAX_SUMMARY_FIELD_LENGTH, go to mailparser for decoding. Malformed MIME yields
 * nulls, never an error.
 */
export async function summarize(raw: Buffer): Promise<MessageSummary> {
  try {
    const fields = summaryFields(parseHeaders(raw));
    if (fields.size === 0) return NONE;
    const head = [...fields].map(([name, value]) => `${name}: ${value}\r\n`).join('');
    const parsed = await simpleParser(Buffer.from(`${head}\r\n`, 'latin1'), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    });
    return {
      subject: safeTextOrNull(parsed.subject),
      from: safeTextOrNull(parsed.from?.text),
      messageId: safeTextOrNull(parsed.messageId),
    };
  } catch {
    return NONE;
  }
}
