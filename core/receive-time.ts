import type { HeaderField } from './headers';

/** Where a stored message's receive time comes from. */
export type ReceiveTimeSource = 'download' | 'receivedHeader';

/** The date after the last ';' of a Received header (RFC 5322 §3.6.7), if it parses. */
function receivedDate(value: string): Date | null {
  const semicolon = value.lastIndexOf(';');
  if (semicolon < 0) return null;
  const date = new Date(value.slice(semicolon + 1).trim().replace(/\s*\([^)]*\)\s*$/, ''));
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
    const dates = headers
      .filter((h) => h.name === 'received')
      .map((h) => receivedDate(h.value))
      .filter((d): d is Date => d !== null);
    if (dates.length > 0) return new Date(Math.max(...dates.map((d) => d.getTime())));
  }
  return downloadedAt;
}
