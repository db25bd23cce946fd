/**
 * fetchmail's own reading of an rc file: `fetchmail --configdump` prints it as a Python literal
 * (`fetchmailrc = { ..., 'servers': [ { ..., 'users': [ {...} ] } ] }`), read here into plain values.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export interface DumpedUser {
  remote: string;
  password: string | null;
  keep: boolean;
  ssl: boolean;
  sslproto: string | null;
  sslcertck: boolean;
  sslfingerprint: string | null;
}

export interface DumpedServer {
  pollname: string;
  active: boolean;
  via: string | null;
  protocol: string;
  service: string | null;
  users: DumpedUser[];
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b' };

/** Reads the Python literal at the start of `text` (what follows it is left alone). */
function literal(text: string): Value {
  let i = 0;
  const skip = (): void => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i])) i++;
      if (text[i] !== '#') return;
      while (i < text.length && text[i] !== '\n') i++;
    }
  };
  const value = (): Value => {
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const dict: Record<string, Value> = {};
      const list: Value[] = [];
      i++;
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          return c === '{' ? dict : list;
        }
        const item = value();
        skip();
        if (c === '{') {
          if (text[i++] !== ':') throw new Error(`configdump: ':' expected at ${i}`);
          dict[item as string] = value();
          skip();
        } else {
          list.push(item);
        }
        if (text[i] === ',') i++;
      }
    }
    if (c === '"' || c === "'") {
      let out = '';
      for (i++; text[i] !== c; i++) {
        if (i >= text.length) throw new Error('configdump: a string never ends');
        if (text[i] === '\\') {
          i++;
          if (text[i] === 'x') {
            out += String.fromCharCode(parseInt(text.slice(i + 1, i + 3), 16));
            i += 2;
          } else out += ESCAPES[text[i]] ?? text[i];
        } else out += text[i];
      }
      i++;
      return out;
    }
    const word = /^-?[A-Za-z0-9_]+/.exec(text.slice(i, i + 64))?.[0];
    if (!word) throw new Error(`configdump: unexpected ${JSON.stringify(text.slice(i, i + 20))}`);
    i += word.length;
    if (word === 'TRUE' || word === 'FALSE') return word === 'TRUE';
    if (word === 'None') return null;
    return Number(word);
  };
  return value();
}

/** The servers and users fetchmail reads from an rc file (written to a private file, as fetchmail requires). */
export async function fetchmailReading(rc: string): Promise<DumpedServer[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailpull-fetchmailrc-'));
  try {
    const file = path.join(dir, 'fetchmailrc');
    await writeFile(file, rc);
    await chmod(file, 0o600);
    const { stdout } = await run('fetchmail', ['-f', file, '--configdump'], { env: { ...process.env, HOME: dir } });
    const dump = literal(stdout.slice(stdout.indexOf('fetchmailrc = ') + 'fetchmailrc = '.length)) as Record<string, Value>;
    return dump.servers as unknown as DumpedServer[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
