import type net from 'node:net';
import { lineServer, type LineServer } from './scripted-pop3';

/** A folder of the scripted server: its LIST attributes (special-use among them) and its messages, UID n at index n - 1. */
export interface ScriptedFolder {
  path: string;
  attributes: string[];
  messages: Buffer[];
}

/** One command as the scripted server read it: the verb (UID FETCH as "UID FETCH") and, after EXAMINE/SELECT, the open folder. */
export interface ScriptedCommand {
  verb: string;
  line: string;
  folder: string | null;
}

export interface ScriptedImapOptions {
  user: string;
  password: string;
  folders: ScriptedFolder[];
  /** the tagged answer's text instead of the usual one (e.g. 'NO [OVERQUOTA] ...'), or null to answer as usual */
  refuse?: (command: ScriptedCommand) => string | null;
}

export interface ScriptedImap extends LineServer {
  folders: ScriptedFolder[];
  /** successful logins */
  logins: number;
  /** every command, its verb and folder (never LOGIN's arguments) */
  commands: ScriptedCommand[];
  /** the UIDs whose bodies were sent, as "folder/uid" */
  bodiesSent: string[];
  refuse: ScriptedImapOptions['refuse'];
}

const CAPABILITIES = 'IMAP4rev1 SPECIAL-USE UIDPLUS X-GM-EXT-1';
const INTERNAL_DATE = '01-Dec-2026 10:00:00 +0000';

const quoted = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** The mailbox name argument: a quoted string or an atom. */
function mailboxArg(rest: string): string {
  const m = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
  return m ? m[1].replace(/\\(.)/g, '$1') : rest.split(' ')[0];
}

/** The UIDs of a sequence set (1:*, 3, 2:4, 1,5) among those that exist. */
function uidsOf(set: string, count: number): number[] {
  const uids = new Set<number>();
  for (const part of set.split(',')) {
    const [a, b = a] = part.split(':');
    const from = a === '*' ? count : Number(a);
    const to = b === '*' ? count : Number(b);
    for (let uid = Math.min(from, to); uid <= Math.max(from, to) && uid <= count; uid++) if (uid >= 1) uids.add(uid);
    // "n:*" always includes the last message
    if (b === '*' && count > 0) uids.add(count);
  }
  return [...uids].sort((x, y) => x - y);
}

/**
 * An IMAP server with the provider quirks Dovecot cannot show: Gmail's virtual folders (All Mail,
 * Important, Starred) holding copies of messages in other folders, and answers scripted per
 * command (Gmail's bandwidth limit, Microsoft's throttling). Enough IMAP for imapflow and
 * mailpull's collection: LOGIN, LIST, EXAMINE, UID FETCH (metadata and partial bodies), LOGOUT.
 */
export async function scriptedImap(options: ScriptedImapOptions): Promise<ScriptedImap> {
  const state: ScriptedImap = {
    folders: options.folders,
    logins: 0,
    commands: [],
    bodiesSent: [],
    refuse: options.refuse,
    port: 0,
    close: () => undefined,
  };
  const open = new WeakMap<net.Socket, string>();
  const server = await lineServer((line, socket) => {
    const space = line.indexOf(' ');
    const tag = line.slice(0, space);
    let rest = line.slice(space + 1);
    let verb = rest.split(' ')[0].toUpperCase();
    rest = rest.slice(verb.length + 1);
    if (verb === 'UID') {
      const sub = rest.split(' ')[0].toUpperCase();
      verb = `UID ${sub}`;
      rest = rest.slice(sub.length + 1);
    }
    const command: ScriptedCommand = { verb, line: verb === 'LOGIN' ? 'LOGIN' : line, folder: open.get(socket) ?? null };
    state.commands.push(command);
    const refusal = state.refuse?.(command);
    if (refusal) return socket.write(`${tag} ${refusal}\r\n`);
    const ok = (text = 'done'): boolean => socket.write(`${tag} OK ${text}\r\n`);
    switch (verb) {
      case 'CAPABILITY':
        socket.write(`* CAPABILITY ${CAPABILITIES}\r\n`);
        return ok();
      case 'LOGIN': {
        const [user, password] = [...rest.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
        if (user !== options.user || password !== options.password)
          return socket.write(`${tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n`);
        state.logins++;
        return ok(`[CAPABILITY ${CAPABILITIES}] authenticated`);
      }
      case 'LIST':
      case 'LSUB':
        // LIST "" "": the hierarchy delimiter and root (RFC 3501 §6.3.8), what imapflow asks without NAMESPACE
        if (rest === '"" ""') socket.write(`* ${verb} (\\Noselect) "/" ""\r\n`);
        else for (const f of state.folders) socket.write(`* ${verb} (${f.attributes.join(' ')}) "/" ${quoted(f.path)}\r\n`);
        return ok();
      case 'EXAMINE':
      case 'SELECT': {
        const folder = state.folders.find((f) => f.path === mailboxArg(rest));
        if (!folder) return socket.write(`${tag} NO [NONEXISTENT] no such folder\r\n`);
        open.set(socket, folder.path);
        socket.write(
          `* FLAGS (\\Seen \\Flagged)\r\n* ${folder.messages.length} EXISTS\r\n* OK [UIDVALIDITY 77] ok\r\n` +
            `* OK [UIDNEXT ${folder.messages.length + 1}] ok\r\n`,
        );
        return ok(`[${verb === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] opened`);
      }
      case 'UID FETCH': {
        const folder = state.folders.find((f) => f.path === open.get(socket));
        if (!folder) return socket.write(`${tag} BAD no folder open\r\n`);
        const [set] = rest.split(' ');
        const body = /BODY\.PEEK\[\]<(\d+)\.(\d+)>/i.exec(rest);
        for (const uid of uidsOf(set, folder.messages.length)) {
          const raw = folder.messages[uid - 1];
          if (body) {
            const piece = raw.subarray(Number(body[1]), Number(body[1]) + Number(body[2]));
            state.bodiesSent.push(`${folder.path}/${uid}`);
            socket.write(`* ${uid} FETCH (UID ${uid} BODY[]<${body[1]}> {${piece.length}}\r\n`);
            socket.write(piece.toString('latin1'));
            socket.write(')\r\n');
          } else {
            socket.write(`* ${uid} FETCH (UID ${uid} RFC822.SIZE ${raw.length} INTERNALDATE "${INTERNAL_DATE}" FLAGS ())\r\n`);
          }
        }
        return ok();
      }
      case 'LOGOUT':
        socket.write('* BYE logging out\r\n');
        ok();
        return socket.end();
      default:
        return ok();
    }
  }, `* OK [CAPABILITY ${CAPABILITIES}] scripted Gmail-like IMAP ready`);
  state.port = server.port;
  state.close = () => server.close();
  return state;
}
