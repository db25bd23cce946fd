/** Text from outside made fit for a Postgres text column and for display. */

/** Longest text kept, in UTF-16 code units (RFC 5322's line limit; a summary is for display only). */
export const MAX_TEXT_LENGTH = 998;

const REPLACEMENT = 0xfffd;

/**
 * `text` without U+0000 (Postgres text refuses it) and without lone surrogates (not
 * encodable as UTF-8), each replaced by U+FFFD, cut to at most `maxLength` code units
 * without splitting a surrogate pair. Idempotent.
 */
export function safeText(text: string, maxLength = MAX_TEXT_LENGTH): string {
  const out: string[] = [];
  let length = 0;
  let start = 0;
  const flush = (end: number): void => {
    if (end > start) out.push(text.slice(start, end));
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const pair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1));
    const width = pair ? 2 : 1;
    if (length + width > maxLength) {
      flush(i);
      return out.join('');
    }
    if (code === 0 || (!pair && code >= 0xd800 && code <= 0xdfff)) {
      flush(i);
      out.push(String.fromCharCode(REPLACEMENT));
      start = i + 1;
    }
    length += width;
    i += width - 1;
  }
  flush(text.length);
  return out.join('');
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** safeText for an optional value; empty stays empty, absent stays null. */
export function safeTextOrNull(text: string | null | undefined, maxLength = MAX_TEXT_LENGTH): string | null {
  return text === null || text === undefined ? null : safeText(text, maxLength);
}
