import { simpleParser } from 'mailparser';
import { headerSectionEnd } from './headers';

export interface MessageSummary {
  subject: string | null;
  from: string | null;
  messageId: string | null;
}

const NONE: MessageSummary = { subject: null, from: null, messageId: null };

/** Decoded subject, From and Message-ID from the header section; malformed MIME yields nulls, never an error. */
export async function summarize(raw: Buffer): Promise<MessageSummary> {
  try {
    const parsed = await simpleParser(raw.subarray(0, headerSectionEnd(raw)), {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
    });
    return {
      subject: parsed.subject ?? null,
      from: parsed.from?.text ?? null,
      messageId: parsed.messageId ?? null,
    };
  } catch {
    return NONE;
  }
}
