/**
 * A POP3 server's LIST gives each message's exact size (RFC 1939). RETR answering with another
 * size means the server sent something else than the message listed: Courier, for a client that
 * did not send UTF8, replaces a message with 8-bit headers by an RFC 6856 "Cannot display Unicode
 * content" notice. What arrived is kept, but the message on the server must never be deleted on
 * its strength.
 */
export interface SizeMismatch {
  listed: number;
  received: number;
}

/** The mismatch between LIST's size and what RETR returned, or null when they agree. */
export function retrievedSizeMismatch(listed: number, received: number): SizeMismatch | null {
  return listed === received ? null : { listed, received };
}

/** What the message's status says about it (the index keeps it; the worker logs it). */
export const sizeMismatchNote = (m: SizeMismatch): string =>
  `RETR returned ${m.received} bytes where LIST said ${m.listed}: the server sent something other than the listed message, so it is kept on the server`;
