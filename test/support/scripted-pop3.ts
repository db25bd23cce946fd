import net from 'node:net';

export interface LineServer {
  port: number;
  close(): void;
}

/** A loopback server that greets (POP3 +OK by default) and hands each CRLF-terminated line to `onLine`. */
export async function lineServer(onLine: (line: string, socket: net.Socket) => void, greeting = '+OK scripted'): Promise<LineServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    // replies are built as latin1 strings: each character one byte, 8-bit bytes as they are
    socket.setDefaultEncoding('latin1');
    socket.on('close', () => sockets.delete(socket));
    socket.write(`${greeting}\r\n`);
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      let end;
      while ((end = buffered.indexOf('\r\n')) !== -1) {
        onLine(buffered.slice(0, end), socket);
        buffered = buffered.slice(end + 2);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    // open connections would keep the test process alive after a failed assertion
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

const stuffed = (body: Buffer): string => body.toString('latin1').replace(/^\./gm, '..').concat('.\r\n');

export interface ScriptedPop3 extends LineServer {
  /** the mailbox; sessions see it as it was at login and remove their DELEs at QUIT */
  mailbox: Buffer[];
  logins: number;
  /** every DELE received, by message number */
  deles: number[];
}

export interface ScriptedPop3Options {
  user: string;
  password: string;
  uidl: boolean;
  top: boolean;
  /** the UIDL of a message (a server that reuses UIDLs); without it UIDL lists nothing */
  uidlOf?: (message: Buffer) => string;
  /** RETR sends this instead of the message LIST sized (Courier's notice for a client without UTF8) */
  retrAs?: (message: Buffer, session: { utf8: boolean }) => Buffer;
  /** CAPA offers "UTF8 USER" and the UTF8 command is taken (RFC 6856) */
  utf8?: boolean;
  /** every command received, its verb only (no passwords) */
  verbs?: string[];
  /** what the session of the nth login (from 1) sees of the mailbox (a server that omits a message once) */
  viewAt?: (mailbox: readonly Buffer[], login: number) => Buffer[];
}

/** A POP3 server with the features a real one always has switched off (UIDL here), or broken. */
export async function scriptedPop3(options: ScriptedPop3Options): Promise<ScriptedPop3> {
  const state = { mailbox: [] as Buffer[], logins: 0, deles: [] as number[] };
  const sessions = new WeakMap<net.Socket, { user?: string; view?: Buffer[]; deleted: Set<number>; utf8: boolean }>();
  const server = await lineServer((line, socket) => {
    const session = sessions.get(socket) ?? { deleted: new Set<number>(), utf8: false };
    sessions.set(socket, session);
    const [verb, arg] = line.split(' ');
    const n = Number(arg);
    const message = session.view?.[n - 1];
    options.verbs?.push(verb.toUpperCase());
    switch (verb.toUpperCase()) {
      case 'CAPA':
        return socket.write(
          `+OK\r\nUSER\r\n${options.top ? 'TOP\r\n' : ''}${options.uidl ? 'UIDL\r\n' : ''}${options.utf8 ? 'UTF8 USER\r\n' : ''}.\r\n`,
        );
      case 'UTF8':
        if (!options.utf8 || session.view) return socket.write('-ERR not now\r\n');
        session.utf8 = true;
        return socket.write('+OK UTF8 enabled\r\n');
      case 'USER':
        session.user = arg;
        return socket.write('+OK\r\n');
      case 'PASS':
        if (session.user !== options.user || line.slice(5) !== options.password) return socket.write('-ERR [AUTH] no\r\n');
        state.logins++;
        session.view = options.viewAt ? options.viewAt(state.mailbox, state.logins) : [...state.mailbox];
        return socket.write('+OK logged in\r\n');
      case 'LIST':
        return socket.write(`+OK\r\n${(session.view ?? []).map((m, i) => `${i + 1} ${m.length}\r\n`).join('')}.\r\n`);
      case 'UIDL':
        if (!options.uidl) return socket.write('-ERR unknown command\r\n');
        if (arg !== undefined)
          return socket.write(message && options.uidlOf ? `+OK ${n} ${options.uidlOf(message)}\r\n` : '-ERR no such message\r\n');
        return socket.write(
          `+OK\r\n${(session.view ?? []).map((m, i) => (options.uidlOf ? `${i + 1} ${options.uidlOf(m)}\r\n` : '')).join('')}.\r\n`,
        );
      case 'TOP': {
        if (!options.top || !message) return socket.write('-ERR no\r\n');
        const end = message.indexOf('\r\n\r\n');
        return socket.write(`+OK\r\n${stuffed(message.subarray(0, end + 4))}`);
      }
      case 'RETR':
        if (!message) return socket.write('-ERR no such message\r\n');
        return socket.write(`+OK\r\n${stuffed(options.retrAs ? options.retrAs(message, session) : message)}`);
      case 'DELE':
        state.deles.push(n);
        session.deleted.add(n);
        return socket.write('+OK\r\n');
      case 'QUIT': {
        const doomed = new Set([...session.deleted].map((i) => session.view?.[i - 1]));
        state.mailbox = state.mailbox.filter((m) => !doomed.has(m));
        socket.end('+OK bye\r\n');
        return;
      }
      default:
        return socket.write('-ERR unknown command\r\n');
    }
  });
  return Object.assign(state, server);
}
