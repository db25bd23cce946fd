/**
 * The addresses of the `for <addr>` clauses of a Received header value, read by a scanner that
 * looks at each character a bounded number of times (a regex for this backtracks quadratically
 * on a long run of '@' or of whitespace).
 *
 * A clause is the word "for" (any case, not inside a longer word), whitespace, an optional '<',
 * then a run without whitespace, '<', '>', ';' or '"' that holds an '@' with something on both
 * sides, then an optional '>', then whitespace, ';' or the end.
 */

/** The characters JS `\s` matches. */
export function isSpaceCode(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isWordCode(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f;
}

const LT = 0x3c;
const GT = 0x3e;
const SEMICOLON = 0x3b;
const QUOTE = 0x22;
const AT = 0x40;

function isRunCode(code: number): boolean {
  return !isSpaceCode(code) && code !== LT && code !== GT && code !== SEMICOLON && code !== QUOTE;
}

/** Whether "for" (any case) starts at `i` and follows no word character. */
function isForWord(value: string, i: number): boolean {
  return (
    (value.charCodeAt(i) | 0x20) === 0x66 &&
    (value.charCodeAt(i + 1) | 0x20) === 0x6f &&
    (value.charCodeAt(i + 2) | 0x20) === 0x72 &&
    (i === 0 || !isWordCode(value.charCodeAt(i - 1)))
  );
}

/**
 * Reads the clause whose "for" starts at `i`: the address and the offset just past the clause,
 * or null. Each clause's whitespace and run are disjoint from every other clause's (a run ends
 * at the whitespace that follows any "for" inside it), so reading every clause is linear.
 */
function clauseAt(value: string, i: number): { address: string; end: number } | null {
  let at = i + 3;
  if (!isSpaceCode(value.charCodeAt(at))) return null;
  while (isSpaceCode(value.charCodeAt(at))) at++;
  if (value.charCodeAt(at) === LT) at++;
  const runStart = at;
  // the first '@' with something before it; the address needs one with something after it too
  let split = -1;
  while (at < value.length && isRunCode(value.charCodeAt(at))) {
    if (split < 0 && at > runStart && value.charCodeAt(at) === AT) split = at;
    at++;
  }
  const runEnd = at;
  if (split < 0 || split >= runEnd - 1) return null;
  if (value.charCodeAt(at) === GT) at++;
  const next = value.charCodeAt(at);
  if (at < value.length && !isSpaceCode(next) && next !== SEMICOLON) return null;
  return { address: value.slice(runStart, runEnd), end: at };
}

/** The addresses of the `for` clauses in `value`, in order, at most `limit` of them. */
export function receivedForAddresses(value: string, limit: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i + 3 <= value.length && out.length < limit) {
    const clause = isForWord(value, i) ? clauseAt(value, i) : null;
    if (clause) out.push(clause.address);
    i = clause ? clause.end : i + 1;
  }
  return out;
}
