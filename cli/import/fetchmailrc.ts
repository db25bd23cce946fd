import { checkSize, RcSyntaxError } from './plan';

/** One keyword of a .fetchmailrc with its arguments; `negated` for "no keep" and "nokeep". */
export interface RcOption {
  name: string;
  args: string[];
  negated: boolean;
  line: number;
}

export interface UserEntry {
  /** the remote login ("user joe there", or the name after "is ... there") */
  remote: string;
  /** the local names it goes to ("is jsmith here"); "*" for multidrop to everyone */
  locals: string[];
  line: number;
  options: RcOption[];
}

export interface PollEntry {
  kind: 'poll' | 'skip' | 'defaults';
  /** the name after poll/skip (null for defaults); "via" may name the host actually contacted */
  label: string | null;
  line: number;
  /** server options, and user options given before any "user" (they apply to every user) */
  options: RcOption[];
  users: UserEntry[];
}

export interface FetchmailRc {
  /** "set" lines: daemon, logfile, postmaster, ... */
  globals: RcOption[];
  polls: PollEntry[];
}

interface Token {
  text: string;
  /** a quoted string, or a word with backslash escapes: a name, never a keyword */
  quoted: boolean;
  line: number;
}

// fetchmail ignores these words and the characters , : ; = between tokens
const NOISE = new Set(['and', 'with', 'has', 'wants', 'options']);

/** Keywords and how many arguments they take: a number, or 'list' (names until the next keyword). */
const ARITY: Record<string, number | 'list'> = {
  via: 1,
  proto: 1,
  protocol: 1,
  port: 1,
  service: 1,
  auth: 1,
  authenticate: 1,
  preauth: 1,
  preauthenticate: 1,
  timeout: 1,
  envelope: 1,
  qvirtual: 1,
  aka: 'list',
  localdomains: 'list',
  local: 'list',
  interface: 1,
  monitor: 1,
  plugin: 1,
  plugout: 1,
  dns: 0,
  checkalias: 0,
  uidl: 0,
  interval: 1,
  tracepolls: 0,
  principal: 1,
  esmtpname: 1,
  esmtppassword: 1,
  'bad-header': 1,
  pass: 1,
  password: 1,
  ssl: 0,
  sslcert: 1,
  sslkey: 1,
  sslproto: 1,
  sslcertck: 0,
  sslcertfile: 1,
  sslcertpath: 1,
  sslfingerprint: 1,
  sslcommonname: 1,
  folder: 'list',
  folders: 'list',
  smtp: 'list',
  smtphost: 'list',
  smtphosts: 'list',
  fetchdomains: 'list',
  smtpaddress: 1,
  smtpname: 1,
  antispam: 'list',
  mda: 1,
  bsmtp: 1,
  lmtp: 0,
  pre: 1,
  preconnect: 1,
  post: 1,
  postconnect: 1,
  keep: 0,
  flush: 0,
  limitflush: 0,
  fetchall: 0,
  rewrite: 0,
  stripcr: 0,
  forcecr: 0,
  pass8: 0,
  pass8bits: 0,
  dropstatus: 0,
  dropdelivered: 0,
  mimedec: 0,
  mimedecode: 0,
  idle: 0,
  limit: 1,
  warnings: 1,
  batchlimit: 1,
  fetchlimit: 1,
  fetchsizelimit: 1,
  fastuidl: 1,
  expunge: 1,
  properties: 1,
  showdots: 0,
};

/** Keywords that start something new, so that a name list before them ends. */
const STRUCTURE = new Set(['poll', 'skip', 'server', 'defaults', 'set', 'user', 'username', 'is', 'to', 'here', 'there', 'no']);

/** Keywords are matched as fetchmail's lexer does: whole words, in lower case, never quoted or escaped. */
const isKeyword = (t: Token): boolean => !t.quoted && (t.text in ARITY || STRUCTURE.has(t.text) || negatedName(t) !== null);

/** "nokeep" → "keep" (fetchmail accepts both "no keep" and "nokeep"). */
function negatedName(t: Token): string | null {
  if (t.quoted || !t.text.startsWith('no') || t.text.length <= 2) return null;
  const name = t.text.slice(2);
  return ARITY[name] === 0 ? name : null;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b' };
const DIGITS = '0123456789';
const OCTAL = '01234567';
const HEX = '0123456789abcdefABCDEF';

/**
 * fetchmail's escapes() on a word or the inside of a quoted string: \x and up to 2 hex digits,
 * \0 and up to 2 more octal digits, \ and up to 3 decimal digits (so "\101" is "e", not "A"),
 * \n \t \r \b; a backslash before a line break joins the lines, before anything else it stands
 * for that character. An escape gives one byte, and a NUL ends the string, as in C.
 */
function escapes(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    if (raw[i] !== '\\') {
      out += raw[i++];
      continue;
    }
    const next = raw[i + 1];
    if (next === undefined) break;
    let code: number;
    if ((DIGITS + 'xX').includes(next)) {
      const hex = next === 'x' || next === 'X';
      const [digits, base, max] = hex ? [HEX, 16, 2] : next === '0' ? [OCTAL, 8, 3] : [DIGITS, 10, 3];
      const first = hex ? i + 2 : i + 1;
      code = 0;
      for (i = first; i < raw.length && i - first < max && digits.includes(raw[i]); i++) code = code * base + parseInt(raw[i], base);
    } else {
      i += 2;
      if (next === '\n') continue;
      code = (SIMPLE_ESCAPES[next] ?? next).charCodeAt(0);
    }
    const byte = code & 0xff;
    if (byte === 0) break;
    out += String.fromCharCode(byte);
  }
  return out;
}

const SEPARATORS = ' \t\r\n,:;=';

/**
 * Splits the file into words and quoted strings as fetchmail's lexer does, dropping comments.
 * A word runs to the next blank or , : ; = (so it may hold '#' and quotes); a string is
 * everything between a quote and the next one of its kind (line breaks included, no escaped
 * quote), unless the word starting at the same quote is longer; a backslash before a line break
 * outside a string continues the line. Linear: each quote search stops at the next token starting
 * with the same quote.
 */
export function tokenize(text: string): Token[] {
  checkSize(text);
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\n' ? 1 : 2;
    } else if (SEPARATORS.includes(c)) {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      let end = i;
      while (end < text.length && !SEPARATORS.includes(text[end])) end++;
      const close = c === '"' || c === "'" ? text.indexOf(c, i + 1) : -1;
      if (close !== -1 && close + 1 >= end) {
        const inside = text.slice(i + 1, close);
        tokens.push({ text: escapes(inside), quoted: true, line });
        for (let at = inside.indexOf('\n'); at !== -1; at = inside.indexOf('\n', at + 1)) line++;
        i = close + 1;
      } else {
        const word = text.slice(i, end);
        if (!NOISE.has(word)) tokens.push({ text: escapes(word), quoted: word.includes('\\'), line });
        i = end;
      }
    }
  }
  return tokens;
}

/** Reads a .fetchmailrc into its poll entries, their users and options, in file order. */
export function parseFetchmailrc(text: string): FetchmailRc {
  const tokens = tokenize(text);
  const rc: FetchmailRc = { globals: [], polls: [] };
  let poll: PollEntry | null = null;
  let user: UserEntry | null = null;
  let i = 0;

  const next = (what: string, after: Token): Token => {
    const t = tokens[i++];
    if (!t) throw new RcSyntaxError(after.line, `${after.text} needs ${what}`);
    return t;
  };
  /** names until the next keyword; after "is" and "to" the first is a name whatever it spells, as in fetchmail */
  const names = (after: Token, firstAnyWord = false): string[] => {
    const list: string[] = [];
    if (firstAnyWord && i < tokens.length) list.push(tokens[i++].text);
    while (i < tokens.length && !isKeyword(tokens[i])) list.push(tokens[i++].text);
    if (list.length === 0) throw new RcSyntaxError(after.line, `${after.text} needs at least one name`);
    return list;
  };

  while (i < tokens.length) {
    const t = tokens[i++];
    const word = t.quoted ? null : t.text;
    if (word === 'set') {
      rc.globals.push(parseSet(t));
      continue;
    }
    if (word === 'poll' || word === 'server' || word === 'skip' || word === 'defaults') {
      const label = word === 'defaults' ? null : next('a server name', t).text;
      poll = { kind: word === 'server' ? 'poll' : word, label, line: t.line, options: [], users: [] };
      rc.polls.push(poll);
      user = null;
      continue;
    }
    if (!poll) throw new RcSyntaxError(t.line, `"${t.text}" outside a poll entry (expected poll, skip, defaults or set)`);
    if (word === 'user' || word === 'username') {
      user = { remote: next('a user name', t).text, locals: [], line: t.line, options: [] };
      poll.users.push(user);
      if (tokens[i]?.text === 'here' && !tokens[i].quoted) {
        // "user jsmith here is joe there": the first name is the local one
        i++;
        user.locals = [user.remote];
        user.remote = '';
      } else if (tokens[i]?.text === 'there' && !tokens[i].quoted) {
        i++;
      }
      continue;
    }
    if (word === 'is' || word === 'to') {
      if (!user) throw new RcSyntaxError(t.line, `"${word}" needs a user entry before it`);
      const list = names(t, true);
      const marker =
        tokens[i] && !tokens[i].quoted && (tokens[i].text === 'here' || tokens[i].text === 'there') ? tokens[i++].text : 'here';
      if (marker === 'there' || user.remote === '') {
        if (user.remote !== '' || list.length !== 1) throw new RcSyntaxError(t.line, 'a user entry has one remote name');
        user.remote = list[0];
      } else {
        user.locals.push(...list);
      }
      continue;
    }
    if (word === 'here' || word === 'there') continue;
    let negated = false;
    let name = word;
    if (word === 'no') {
      const target = next('an option', t);
      negated = true;
      name = target.quoted ? null : target.text;
    } else if (word !== null && negatedName(t) !== null) {
      negated = true;
      name = negatedName(t);
    }
    if (name === null || !(name in ARITY)) throw new RcSyntaxError(t.line, `unknown keyword "${t.text}"`);
    const arity = ARITY[name];
    // "no envelope", "no dns": the option switched off takes no arguments
    const args: string[] = [];
    if (!negated && arity === 'list') {
      args.push(...names(t));
    } else if (!negated && typeof arity === 'number') {
      for (let n = 0; n < arity; n++) args.push(next('a value', t).text);
      // "envelope 1 X-Envelope-To": an optional count of headers to skip first
      if (name === 'envelope' && /^[0-9]+$/.test(args[0]) && tokens[i] && !isKeyword(tokens[i])) args.push(tokens[i++].text);
    }
    (user ?? poll).options.push({ name, args, negated, line: t.line });
  }
  return rc;

  function parseSet(t: Token): RcOption {
    let negated = false;
    let name = next('a setting', t);
    if (!name.quoted && name.text === 'no') {
      negated = true;
      name = next('a setting', t);
    }
    const flags = new Set(['bouncemail', 'spambounce', 'softbounce', 'syslog', 'invisible', 'showdots']);
    if (negated || flags.has(name.text)) return { name: name.text, args: [], negated, line: t.line };
    let value = next('a value', name);
    if (!value.quoted && value.text === '=') value = next('a value', name);
    return { name: name.text, args: [value.text], negated: false, line: t.line };
  }
}
