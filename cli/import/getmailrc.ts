import { checkSize, RcSyntaxError } from './plan';

export interface IniValue {
  value: string;
  line: number;
}

/** A getmailrc: INI sections ([retriever], [destination], [options], [filter-…]) of lower-cased keys. */
export type GetmailRc = Map<string, Map<string, IniValue>>;

/**
 * Reads a getmailrc the way Python's ConfigParser does: "key = value" or "key: value", comment
 * lines starting with # or ;, indented lines continuing the value above.
 */
export function parseGetmailrc(text: string): GetmailRc {
  checkSize(text);
  const rc: GetmailRc = new Map();
  let section: Map<string, IniValue> | null = null;
  let last: IniValue | null = null;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n].endsWith('\r') ? lines[n].slice(0, -1) : lines[n];
    const line = n + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (trimmed === '') last = null;
      continue;
    }
    if (raw[0] === ' ' || raw[0] === '\t') {
      if (!last) throw new RcSyntaxError(line, 'an indented line continues nothing');
      last.value += `\n${trimmed}`;
      continue;
    }
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']')) throw new RcSyntaxError(line, 'a section header needs a closing ]');
      const name = trimmed.slice(1, -1).trim();
      section = rc.get(name) ?? new Map<string, IniValue>();
      rc.set(name, section);
      last = null;
      continue;
    }
    if (!section) throw new RcSyntaxError(line, 'a setting before the first [section]');
    const eq = raw.indexOf('=');
    const colon = raw.indexOf(':');
    const at = eq === -1 ? colon : colon === -1 ? eq : Math.min(eq, colon);
    if (at <= 0) throw new RcSyntaxError(line, `expected "key = value", found "${trimmed.slice(0, 60)}"`);
    last = { value: raw.slice(at + 1).trim(), line };
    section.set(raw.slice(0, at).trim().toLowerCase(), last);
  }
  return rc;
}

const TRUE = new Set(['1', 'yes', 'true', 'on']);
const FALSE = new Set(['0', 'no', 'false', 'off']);

/** getmail's booleans, as ConfigParser reads them; null when the value is none of them. */
export function iniBoolean(value: string): boolean | null {
  const v = value.toLowerCase();
  return TRUE.has(v) ? true : FALSE.has(v) ? false : null;
}

/**
 * A Python tuple of strings as getmail's mailboxes take it — ("INBOX", 'Lists.a b',) — or one bare
 * name. Returns null when it is not one.
 */
export function pythonStrings(value: string): string[] | null {
  const text = value.trim();
  if (!text.startsWith('(') && !text.startsWith('"') && !text.startsWith("'")) return text ? [text] : null;
  const inner = text.startsWith('(') ? (text.endsWith(')') ? text.slice(1, -1) : null) : text;
  if (inner === null) return null;
  const out: string[] = [];
  let i = 0;
  let expectValue = true;
  while (i < inner.length) {
    const c = inner[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === ',' && !expectValue) {
      expectValue = true;
      i++;
    } else if ((c === '"' || c === "'") && expectValue) {
      let s = '';
      i++;
      while (i < inner.length && inner[i] !== c) {
        if (inner[i] === '\\' && i + 1 < inner.length) i++;
        s += inner[i++];
      }
      if (i >= inner.length) return null;
      i++;
      out.push(s);
      expectValue = false;
    } else {
      return null;
    }
  }
  return out;
}
