/**
 * Parsers for POP3 server text, each one pass over its input (no regex on server text): the APOP
 * timestamp in a greeting, a LIST or UIDL listing, CAPA keywords.
 */

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

const isBlank = (c: number): boolean => c === SPACE || c === TAB || c === CR;

/** The "<...@...>" timestamp of an APOP-capable greeting (RFC 1939 §7), or null. */
export function apopTimestamp(greeting: string): string | null {
  let from = 0;
  for (;;) {
    const open = greeting.indexOf('<', from);
    if (open === -1) return null;
    const close = greeting.indexOf('>', open);
    if (close === -1) return null;
    const start = greeting.lastIndexOf('<', close);
    const at = greeting.indexOf('@', start);
    if (at > start + 1 && at < close - 1) return greeting.slice(start, close + 1);
    from = close + 1;
  }
}

/**
 * A LIST or UIDL body: "n value" per line → message number → value. Lines that do not start with
 * a number are skipped; a later line for the same number wins.
 */
/**
 * A listing value as text. RFC 1939 allows only 0x21-0x7E in a unique id; any other byte (a NUL
 * would make the id unstorable) is written as %XX, and so is '%', so distinct ids stay distinct.
 */
function printableId(body: Buffer, from: number, to: number): string {
  let clean = true;
  for (let i = from; i < to && clean; i++) clean = body[i] >= 0x21 && body[i] <= 0x7e && body[i] !== 0x25;
  if (clean) return body.toString('latin1', from, to);
  let out = '';
  for (let i = from; i < to; i++) {
    const b = body[i];
    out += b >= 0x21 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function parseListing(body: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  let pos = 0;
  while (pos < body.length) {
    let end = body.indexOf(LF, pos);
    if (end === -1) end = body.length;
    let i = pos;
    while (i < end && isBlank(body[i])) i++;
    let n = 0;
    const digitsFrom = i;
    while (i < end && body[i] >= 0x30 && body[i] <= 0x39 && i - digitsFrom < 10) n = n * 10 + (body[i++] - 0x30);
    const numbered = i > digitsFrom && i < end && isBlank(body[i]);
    while (i < end && isBlank(body[i])) i++;
    const valueFrom = i;
    while (i < end && !isBlank(body[i])) i++;
    if (numbered && i > valueFrom) out.set(n, printableId(body, valueFrom, i));
    pos = end + 1;
  }
  return out;
}

/** CAPA keywords, one per line, trimmed and upper-cased. */
export function capaKeywords(body: Buffer): Set<string> {
  const out = new Set<string>();
  let pos = 0;
  while (pos < body.length) {
    let end = body.indexOf(LF, pos);
    if (end === -1) end = body.length;
    const line = body.toString('latin1', pos, end).trim();
    if (line) out.add(line.toUpperCase());
    pos = end + 1;
  }
  return out;
}

/** Whether a CAPA answer (capaKeywords) offers `keyword`, with or without arguments ("UTF8 USER"). */
export function capaOffers(capabilities: ReadonlySet<string> | null, keyword: string): boolean {
  if (!capabilities) return false;
  const word = keyword.toUpperCase();
  for (const line of capabilities) if (line === word || line.startsWith(`${word} `)) return true;
  return false;
}
