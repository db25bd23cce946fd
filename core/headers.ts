/** Header-section parsing for routing decisions. Binary safe: bytes are read as latin1. */
export interface HeaderField {
  /** lower-cased field name */
  name: string;
  /** unfolded value, as latin1 text */
  value: string;
}

/** Offset where the header section ends (before the blank line), or the whole length if none. */
export function headerSectionEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return raw.length;
  if (crlf === -1) return lf;
  if (lf === -1) return crlf;
  return Math.min(crlf, lf);
}

export function parseHeaders(raw: Buffer): HeaderField[] {
  const text = raw.subarray(0, headerSectionEnd(raw)).toString('latin1');
  const fields: HeaderField[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a header line (malformed MIME): ignore it, keep going
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}
