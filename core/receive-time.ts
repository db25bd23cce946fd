import type { HeaderField } from './headers';

/** Where a stored message's receive time comes from. */
export type ReceiveTimeSource = 'download' | 'receivedHeader';

/** Longest date text given to the Date parser; an RFC 5322 date-time is far shorter. */
export const MAX_DATE_TEXT_LENGTH = 100;

/**
 * `text` without a trailing comment such as "(UTC)": from the first '(' after the last ')'
 * but one to the final ')'. Scans by index; a regex for this backtracks over long whitespace.
 */
function withoutTrailingComment(text: string): string {
  if (!text.endsWith(')')) return text;
  const previousClose = text.lastIndexOf(')', text.length - 2);
  const open = text.indexOf('(', previousClose + 1);
  return open < 0 ? text : text.slice(0, open).trimEnd();
}

/** The date after the last ';' of a Received header (RFC 5322 §3.6.7), if it parses. */
function receivedDate(value: string): Date | null {
  const semicolon = value.lastIndexOf(';');
  if (semicolon < 0) return null;
  const text = withoutTrailingComment(value.slice(semicolon + 1).trim());
  if (text.length > MAX_DATE_TEXT_LENGTH) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * The receive time to store: IMAP's INTERNALDATE when the server gave one; for POP3 with the
 * "received header" option, the newest date among the Received headers (hMailServer's "process
 * MIME date"); otherwise the download time.
 */
export function receiveTime(
  internalDate: Date | null,
  headers: readonly HeaderField[],
  source: ReceiveTimeSource,
  downloadedAt: Date,
): Date {
  if (internalDate) return internalDate;
  if (source === 'receivedHeader') {
    let newest: number | null = null;
    for (const header of headers) {
      const date = header.name === 'received' ? receivedDate(header.value) : null;
      if (date && (newest === null || date.getTime() > newest)) newest = date.getTime();
    }
    if (newest !== null) return new Date(newest);
  }
  return downloadedAt;
}
