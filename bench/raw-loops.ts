import net from 'node:net';
import tls from 'node:tls';
import type { DovecotUser } from '../testkit/dovecot';

/**
 * The wire's limit for one client on this machine: the simplest loops that move every message
 * over TLS and throw the bytes away (no parsing beyond finding where an answer ends, no storage).
 */

const CRLF = Buffer.from('\r\n');
const END_OF_MULTILINE = Buffer.from('\r\n.\r\n');

/** A line-and-bytes reader over a socket that can be swapped for its TLS upgrade. */
class Wire {
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      this.waiting?.();
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      this.waiting?.();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  private more(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve) => {
      this.waiting = () => {
        this.waiting = null;
        resolve();
      };
    });
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buffered.indexOf(CRLF);
      if (end !== -1) {
        const line = this.buffered.toString('latin1', 0, end);
        this.buffered = this.buffered.subarray(end + 2);
        return line;
      }
      await this.more();
    }
  }

  /** Drops bytes up to and including `marker`; returns how many were dropped. */
  async skipPast(marker: Buffer): Promise<number> {
    let dropped = 0;
    for (;;) {
      const at = this.buffered.indexOf(marker);
      if (at !== -1) {
        this.buffered = this.buffered.subarray(at + marker.length);
        return dropped + at + marker.length;
      }
      const keep = Math.min(this.buffered.length, marker.length - 1);
      dropped += this.buffered.length - keep;
      this.buffered = this.buffered.subarray(this.buffered.length - keep);
      await this.more();
    }
  }

  /** Drops exactly `count` bytes. */
  async skip(count: number): Promise<void> {
    let left = count;
    for (;;) {
      const take = Math.min(left, this.buffered.length);
      this.buffered = this.buffered.subarray(take);
      left -= take;
      if (left === 0) return;
      await this.more();
    }
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async upgrade(ca: string): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = tls.connect({ socket: plain, ca: [ca], servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buffered = Buffer.alloc(0);
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function connect(port: number): Promise<Wire> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new Wire(socket);
}

function expect(line: string, prefix: string, what: string): void {
  if (!line.startsWith(prefix)) throw new Error(`${what}: unexpected answer ${line.slice(0, 200)}`);
}

/** STLS, USER/PASS, STAT, then RETR 1..n one after the other, bytes dropped. Returns messages and bytes read. */
export async function rawPop3(port: number, ca: string, user: DovecotUser): Promise<{ messages: number; bytes: number }> {
  const wire = await connect(port);
  try {
    expect(await wire.line(), '+OK', 'greeting');
    wire.send('STLS');
    expect(await wire.line(), '+OK', 'STLS');
    await wire.upgrade(ca);
    wire.send(`USER ${user.name}`);
    expect(await wire.line(), '+OK', 'USER');
    wire.send(`PASS ${user.password}`);
    expect(await wire.line(), '+OK', 'PASS');
    wire.send('STAT');
    const stat = await wire.line();
    expect(stat, '+OK', 'STAT');
    const count = Number(stat.split(' ')[1]);
    let bytes = 0;
    for (let n = 1; n <= count; n++) {
      wire.send(`RETR ${n}`);
      // "+OK ...\r\n" then the body up to "\r\n.\r\n"; a "-ERR" would never end, so check the status first
      expect(await wire.line(), '+OK', `RETR ${n}`);
      bytes += await wire.skipPast(END_OF_MULTILINE);
    }
    wire.send('QUIT');
    await wire.line();
    return { messages: count, bytes };
  } finally {
    wire.close();
  }
}

/** STARTTLS, LOGIN, EXAMINE INBOX, then one `UID FETCH 1:* BODY.PEEK[]`, literals dropped. */
export async function rawImap(port: number, ca: string, user: DovecotUser): Promise<{ messages: number; bytes: number }> {
  const wire = await connect(port);
  const tagged = async (tag: string): Promise<void> => {
    for (;;) {
      const line = await wire.line();
      if (line.startsWith(`${tag} `)) return expect(line, `${tag} OK`, tag);
    }
  };
  try {
    expect(await wire.line(), '* OK', 'greeting');
    wire.send('a STARTTLS');
    await tagged('a');
    await wire.upgrade(ca);
    wire.send(`b LOGIN "${user.name}" "${user.password}"`);
    await tagged('b');
    wire.send('c EXAMINE INBOX');
    await tagged('c');
    wire.send('d UID FETCH 1:* BODY.PEEK[]');
    let messages = 0;
    let bytes = 0;
    for (;;) {
      const line = await wire.line();
      if (line.startsWith('d ')) {
        expect(line, 'd OK', 'UID FETCH');
        break;
      }
      // "* n FETCH (UID u BODY[] {size}": the message follows as a literal, then the line goes on
      const open = line.endsWith('}') ? line.lastIndexOf('{') : -1;
      if (open === -1) continue;
      const size = Number(line.slice(open + 1, -1));
      await wire.skip(size);
      messages++;
      bytes += size;
    }
    wire.send('e LOGOUT');
    return { messages, bytes };
  } finally {
    wire.close();
  }
}
