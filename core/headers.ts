import { isUtf8 } from 'node:buffer';

/**
 * Header-section parsing for routing decisions, in one linear pass over a bounded prefix.
 * Binary safe: bytes are read as latin1. A line ends at CRLF, LF or a bare CR (a run of CRs
 * before an LF is one line end, as broken converters write CR CR LF).
 */
export interface HeaderField {
  /** lower-cased field name */
  name: string;
  /** unfolded value, as latin1 text */
  value: string;
}

/** Bytes of a message parseHeaders examines; fields beyond them are not read. */
export const MAX_HEADER_BYTES = 256 * 1024;
/** Fields parseHeaders returns at most; later ones are not read. */
export const MAX_HEADER_FIELDS = 2_000;
/** Characters of an unfolded field value kept; the rest of the field is skipped. */
export const MAX_FIELD_VALUE_LENGTH = 64 * 1024;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/**
 * The next CR or LF at or after an offset. Each kind is searched from where the last search
 * stopped, so walking a buffer line by line looks at every byte a bounded number of times
 * (searching from every line start to the next CR would rescan a CR-less buffer per line).
 */
class LineBreaks {
  private cr = -2;
  private lf = -2;

  constructor(private readonly buf: Buffer) {}

  /** Offset of the next line break at or after `from`, or -1. */
  next(from: number): number {
    if (this.cr !== -1 && this.cr < from) this.cr = this.buf.indexOf(CR, from);
    if (this.lf !== -1 && this.lf < from) this.lf = this.buf.indexOf(LF, from);
    if (this.cr === -1) return this.lf;
    if (this.lf === -1) return this.cr;
    return Math.min(this.cr, this.lf);
  }

  /** Offset just past the line break at `at`. */
  after(at: number): number {
    if (this.buf[at] === LF) return at + 1;
    let i = at;
    while (this.buf[i] === CR) i++;
    // a bare CR ends a line by itself (the next one starts with the following CR, an empty line)
    return this.buf[i] === LF ? i + 1 : at + 1;
  }
}

/**
 * Calls `visit(start, end)` for each line of the header section in `buf` (without its line
 * break), until the empty line that ends the section, the end of `buf`, or `visit` returning
 * false. Returns the offset of the line break before the empty line, or buf.length if none.
 */
function walkHeaderLines(buf: Buffer, visit: (start: number, end: number) => boolean): number {
  const breaks = new LineBreaks(buf);
  let start = 0;
  let previousEnd = 0;
  while (start < buf.length) {
    const brk = breaks.next(start);
    if (brk === start) return previousEnd;
    const end = brk === -1 ? buf.length : brk;
    if (!visit(start, end)) break;
    if (brk === -1) break;
    previousEnd = brk;
    start = breaks.after(brk);
  }
  return buf.length;
}

/** Offset where the header section ends (before the blank line), or the whole length if none. Linear in the message size. */
export function headerSectionEnd(raw: Buffer): number {
  return walkHeaderLines(raw, () => true);
}

function skipBlanks(buf: Buffer, from: number, end: number): number {
  let i = from;
  while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
  return i;
}

/**
 * The fields of the header section, in order, from at most MAX_HEADER_BYTES of the message:
 * at most MAX_HEADER_FIELDS fields, each value unfolded (continuation lines joined by one
 * space) and cut to MAX_FIELD_VALUE_LENGTH characters. Lines without a colon are skipped,
 * with the continuation lines after them. A line cut by the size bound is read as far as it goes.
 */
export function parseHeaders(raw: Buffer): HeaderField[] {
  const buf = raw.length > MAX_HEADER_BYTES ? raw.subarray(0, MAX_HEADER_BYTES) : raw;
  const fields: HeaderField[] = [];
  let current: HeaderField | null = null;
  walkHeaderLines(buf, (start, end) => {
    if (buf[start] === SP || buf[start] === HTAB) {
      const room = current ? MAX_FIELD_VALUE_LENGTH - current.value.length - 1 : 0;
      if (current && room > 0) {
        const from = skipBlanks(buf, start, end);
        const more = buf.toString('latin1', from, Math.min(end, from + room)).trim();
        if (more) current.value = current.value ? `${current.value} ${more}` : more;
      }
      return true;
    }
    const colon = buf.subarray(start, end).indexOf(COLON);
    if (colon <= 0) {
      current = null;
      return true;
    }
    if (fields.length >= MAX_HEADER_FIELDS) return false;
    const valueStart = start + colon + 1;
    current = {
      name: buf
        .toString('latin1', start, start + colon)
        .trim()
        .toLowerCase(),
      value: buf.toString('latin1', valueStart, Math.min(end, valueStart + MAX_FIELD_VALUE_LENGTH)).trim(),
    };
    fields.push(current);
    return true;
  });
  return fields;
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A header value read as latin1, as the UTF-8 text its bytes are (RFC 6532 allows UTF-8 in
 * header fields, addresses included), or null if the bytes are not valid UTF-8. ASCII is returned as is.
 */
export function utf8Text(latin1: string): string | null {
  if (!NON_ASCII.test(latin1)) return latin1;
  const bytes = Buffer.from(latin1, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : null;
}
