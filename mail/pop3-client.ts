import { createHash } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { classifyError, MailpullError, PeerSilenceError, providerBackoff } from '../core/errors';
import { xoauth2Response } from './xoauth2';
import { apopTimestamp, capaKeywords, parseListing } from '../core/pop3-replies';
import { pop3RefusalKind, pop3ResponseCode } from '../core/protocol-codes';
import { redactCommand } from '../secrets/redact';
import { ByteGatherer } from './byte-gatherer';
import { MultilineDecoder } from './multiline-decoder';
import { Pop3Inbox } from './pop3-inbox';
import { secureContextFor } from './tls-context';

const MAX_LINE = 64 * 1024;

export interface Pop3TlsOptions {
  /** extra trusted CA certificates (PEM); the system CAs are always trusted */
  ca?: string;
  rejectUnauthorized: boolean;
}

export interface Pop3ConnectOptions {
  host: string;
  port: number;
  /** implicit TLS from the first byte (POP3S) */
  implicitTls: boolean;
  tls: Pop3TlsOptions;
  /** longest wait for any single read from the server */
  timeoutMs: number;
  /** receives each command (credentials masked) and each status line, for a protocol trace */
  trace?: (line: string) => void;
  /** where `host` leads: the addresses the network policy checked (see core/guarded-connect.ts); else the system resolver */
  lookup?: net.LookupFunction;
}

/** Commands whose argument may be a secret: a step names only their verb. */
const SECRET_ARGUMENTS = new Set(['USER', 'PASS', 'APOP', 'AUTH']);

/** The step a command starts, for a silence error: its verb, with a message number (not a secret) kept. */
function stepOf(line: string): string {
  const space = line.indexOf(' ');
  const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  return SECRET_ARGUMENTS.has(verb) || space === -1 ? verb : `${verb} ${line.slice(space + 1, space + 12)}`;
}

/** RFC 2449/3206 response codes decide whether a refusal is about the credentials, passing or for good. */
function refusal(text: string, duringLogin: boolean): MailpullError {
  const backoff = providerBackoff(text, null, new Date());
  if (backoff) return backoff;
  const kind = pop3RefusalKind(pop3ResponseCode(text), duringLogin);
  const what = { auth: 'authentication failed', busy: 'server refused for now', permanent: 'server refused for good' } as Partial<
    Record<typeof kind, string>
  >;
  return new MailpullError(kind, `${what[kind] ?? 'server answered -ERR'}: ${text}`);
}

/** How much of a multi-line reply is kept, and what happens to the rest. */
interface MultilineBounds {
  /** bytes kept; past them the reply fails ('fail') or the rest is read and dropped ('drain') */
  keepBytes: number;
  overflow: 'fail' | 'drain';
  /** most lines accepted ('fail' only) */
  maxLines?: number;
  /** most bytes read and dropped after keepBytes before the connection is given up */
  drainBytes?: number;
  /** names the reply in errors */
  what: string;
  /** the size the server declared for the reply's body, to gather a large one into one buffer */
  declared?: number;
}

interface MultilineResult {
  /** the kept bytes; with 'drain', the first keepBytes bytes of a longer reply */
  body: Buffer;
  /** decoded bytes the server sent, kept or not */
  received: number;
}

/** Largest LIST or UIDL listing accepted; 100,000 messages take about 2 MB. */
export const LISTING_MAX_BYTES = 64 * 1024 * 1024;
export const LISTING_MAX_LINES = 1_000_000;
/** A TOP reply keeps this much of the header section and drops the rest. */
export const HEADER_KEEP_BYTES = 1024 * 1024;
const CAPA_MAX_BYTES = 64 * 1024;
/** Most bytes of unasked data held between commands. */
const MAX_INBOX = 4 * 1024 * 1024;
/** With commands pipelined, reading from the server pauses while this much of their replies waits unread. */
const PIPELINE_INBOX_BYTES = 256 * 1024;
/** Most RETR commands in flight at once, and most bytes their messages may declare (at least one is always sent). */
const PIPELINE_MAX_COMMANDS = 32;
const PIPELINE_MAX_BYTES = 2 * 1024 * 1024;
/**
 * More RETR commands go once the commands in flight are down to half of both bounds, together in
 * one write: a write per answer read costs the worker more than the answer (TLS and loopback work
 * per write), and half the window still keeps the server busy.
 */
const PIPELINE_REFILL_COMMANDS = PIPELINE_MAX_COMMANDS / 2;
const PIPELINE_REFILL_BYTES = PIPELINE_MAX_BYTES / 2;
/** Most UIDL n commands sent in one write. */
const PIPELINE_UIDL_COMMANDS = 256;
/** Bound of retr() when none is given. */
const RETR_MAX_BYTES = 1024 * 1024 * 1024;
/** Default for how much of an oversize message is read and dropped to keep the session usable. */
export const DEFAULT_DRAIN_BYTES = 64 * 1024 * 1024;

/** A RETR: the message, or only how many bytes it had once it passed the limit. */
export type Retrieved = { raw: Buffer; received: number } | { raw: null; received: number };

/** A message to RETR: its number and the size LIST declared for it. */
export interface RetrRequest {
  number: number;
  size: number;
}

/**
 * A small, binary-safe POP3 client (RFC 1939, CAPA per RFC 2449, STLS per RFC 2595, APOP).
 * Every read has a timeout, a dropped connection fails the pending command, and bytes the server
 * sends unasked (an idle-timeout -ERR) never throw outside a command.
 */
export class Pop3Client {
  private socket: net.Socket;
  private inbox = new Pop3Inbox();
  private sink: ((chunk: Buffer) => void) | null = null;
  private wake: (() => void) | null = null;
  private failure: MailpullError | null = null;
  /** commands sent whose replies are not being read yet (pipelining): their bytes are expected */
  private awaited = 0;
  /** the command whose answer is awaited, and how many bytes of a multi-line answer came: named when the server falls silent */
  private step = 'greeting';
  private stepBytes = 0;
  greeting = '';

  private constructor(
    socket: net.Socket,
    private readonly options: Pop3ConnectOptions,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  static async connect(options: Pop3ConnectOptions): Promise<Pop3Client> {
    const socket = options.implicitTls
      ? tls.connect({ host: options.host, port: options.port, lookup: options.lookup, ...tlsSettings(options) })
      : net.connect({ host: options.host, port: options.port, lookup: options.lookup });
    const client = new Pop3Client(socket, options);
    try {
      await client.settle(socket, options.implicitTls ? 'secureConnect' : 'connect');
      client.greeting = await client.readStatus(false).catch((err: unknown) => {
        if (err instanceof PeerSilenceError && !options.implicitTls) {
          throw new PeerSilenceError(
            err.peer,
            err.step,
            err.idleMs,
            'if this port expects TLS from the first byte (like 995), use tlsMode "direct"',
          );
        }
        throw err;
      });
      return client;
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  get apopTimestamp(): string | null {
    return apopTimestamp(this.greeting);
  }

  /** Server capabilities (upper-cased keywords), or null when the server has no CAPA. */
  async capa(): Promise<Set<string> | null> {
    await this.send('CAPA');
    try {
      await this.readStatus(false);
    } catch (err) {
      if (err instanceof MailpullError && err.kind === 'protocol') return null;
      throw err;
    }
    const { body } = await this.readMultiline({ keepBytes: CAPA_MAX_BYTES, overflow: 'fail', what: 'CAPA' });
    return capaKeywords(body);
  }

  async startTls(): Promise<void> {
    await this.command('STLS');
    // Anything the server sent after its +OK arrived in plaintext and could have been injected
    // by a man in the middle: drop it before the TLS session starts.
    this.inbox = new Pop3Inbox();
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.on('error', () => undefined);
    const secure = tls.connect({ socket: raw, ...tlsSettings(this.options) });
    this.socket = secure;
    this.attach(secure);
    await this.settle(secure, 'secureConnect');
  }

  /**
   * RFC 6856 UTF8, before login: messages with UTF-8 headers are then sent as they are, not
   * replaced by a notice (Courier). Whether the server took it.
   */
  async utf8(): Promise<boolean> {
    try {
      await this.command('UTF8');
      return true;
    } catch (err) {
      if (err instanceof MailpullError && err.kind === 'protocol') return false;
      throw err;
    }
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`USER ${user}`, true);
    await this.command(`PASS ${password}`, true);
  }

  /**
   * SASL XOAUTH2 with the initial response (RFC 5034). A refused token gets a "+" challenge
   * holding the error as JSON; an empty line answers it and the server then sends -ERR.
   */
  async xoauth2(user: string, accessToken: string): Promise<void> {
    await this.send(`AUTH XOAUTH2 ${xoauth2Response(user, accessToken)}`);
    const line = await this.readTracedLine();
    if (!line.startsWith('+') || line.startsWith('+OK')) {
      statusOf(line, true);
      return;
    }
    await this.send('');
    await this.readStatus(true);
    throw new MailpullError('auth', 'authentication failed: the server refused the access token');
  }

  async apop(user: string, secret: string): Promise<void> {
    const stamp = this.apopTimestamp;
    if (!stamp) throw new MailpullError('config', 'APOP is not possible: the server greeting has no timestamp');
    const digest = createHash('md5')
      .update(stamp + secret, 'utf8')
      .digest('hex');
    await this.command(`APOP ${user} ${digest}`, true);
  }

  /** message number → unique id */
  async uidl(): Promise<Map<number, string>> {
    await this.command('UIDL');
    return parseListing(await this.readListing('UIDL'));
  }

  /** The unique id of one message (UIDL n), or null if the server has none for that number. */
  async uidlOf(n: number): Promise<string | null> {
    await this.send(`UIDL ${n}`);
    return uidOf(n, await this.readTracedLine());
  }

  /**
   * UIDL n for each number, as uidlOf; with `pipelined` (the server's CAPA says PIPELINING) the
   * commands go in batches without waiting for each answer.
   */
  async uidlOfEach(numbers: readonly number[], pipelined: boolean): Promise<(string | null)[]> {
    if (!pipelined) {
      const out: (string | null)[] = [];
      for (const n of numbers) out.push(await this.uidlOf(n));
      return out;
    }
    const out: (string | null)[] = [];
    for (let from = 0; from < numbers.length; from += PIPELINE_UIDL_COMMANDS) {
      const batch = numbers.slice(from, from + PIPELINE_UIDL_COMMANDS);
      this.awaited = batch.length;
      await this.sendAll(batch.map((n) => `UIDL ${n}`));
      try {
        for (const n of batch) {
          this.awaited--;
          this.expect(`UIDL ${n}`);
          out.push(uidOf(n, await this.readTracedLine()));
        }
      } finally {
        this.awaited = 0;
      }
    }
    return out;
  }

  /** message number → size in octets */
  async list(): Promise<Map<number, number>> {
    await this.command('LIST');
    const sizes = new Map<number, number>();
    for (const [n, size] of parseListing(await this.readListing('LIST'))) sizes.set(n, Number.parseInt(size, 10) || 0);
    return sizes;
  }

  /** The header section of a message (TOP n 0), at most its first HEADER_KEEP_BYTES. */
  async top(n: number): Promise<Buffer> {
    await this.command(`TOP ${n} 0`);
    const bounds = { keepBytes: HEADER_KEEP_BYTES, overflow: 'drain', drainBytes: DEFAULT_DRAIN_BYTES, what: `TOP ${n}` } as const;
    return (await this.readMultiline(bounds)).body;
  }

  /**
   * The message exactly as the server holds it, if it has at most `maxBytes` bytes. A larger one
   * is read on and dropped (up to `drainBytes` more, else the connection is given up), so the
   * session stays usable; only its size is returned.
   */
  async retrieve(n: number, maxBytes: number, drainBytes = DEFAULT_DRAIN_BYTES): Promise<Retrieved> {
    await this.command(`RETR ${n}`);
    const { body, received } = await this.readMultiline({ keepBytes: maxBytes, overflow: 'drain', drainBytes, what: `RETR ${n}` });
    return received > maxBytes ? { raw: null, received } : { raw: body, received };
  }

  /**
   * retrieve() for each message, in order. With `pipelined` (the server's CAPA says PIPELINING)
   * the next RETR commands are sent before the answer to the first is read, a bounded number and
   * declared size of them at a time, topped up in one write once half of them were answered.
   * Stopping early reads the answers still on their way.
   */
  async *retrieveEach(
    requests: readonly RetrRequest[],
    maxBytes: number,
    pipelined: boolean,
    drainBytes = DEFAULT_DRAIN_BYTES,
  ): AsyncGenerator<Retrieved> {
    let sent = 0;
    let read = 0;
    let inFlightBytes = 0;
    const reply = async (): Promise<Retrieved> => {
      const { number, size } = requests[read];
      read++;
      this.awaited = sent - read;
      this.expect(`RETR ${number}`);
      await this.readStatus(false);
      const bounds = { keepBytes: maxBytes, overflow: 'drain', drainBytes, what: `RETR ${number}`, declared: size } as const;
      const { body, received } = await this.readMultiline(bounds);
      inFlightBytes -= size;
      return received > maxBytes ? { raw: null, received } : { raw: body, received };
    };
    try {
      while (read < requests.length) {
        const lines: string[] = [];
        const refill = sent - read <= PIPELINE_REFILL_COMMANDS && inFlightBytes <= PIPELINE_REFILL_BYTES;
        while (
          sent < requests.length &&
          (sent === read ||
            (pipelined && refill && sent - read < PIPELINE_MAX_COMMANDS && inFlightBytes + requests[sent].size <= PIPELINE_MAX_BYTES))
        ) {
          lines.push(`RETR ${requests[sent].number}`);
          inFlightBytes += requests[sent].size;
          sent++;
        }
        // their answers may arrive before the write completes: they are expected, not unasked data
        this.awaited = sent - read;
        if (lines.length > 0) await this.sendAll(lines);
        yield await reply();
      }
    } finally {
      try {
        // A consumer that stopped early, or a refused RETR, leaves answers on their way: read
        // them (a refusal among them too), so the session stays in step. A broken connection ends this.
        while (read < sent && !this.failure) {
          await reply().catch((err: unknown) => {
            if (this.failure) throw err;
          });
        }
      } finally {
        this.awaited = 0;
      }
    }
  }

  /** RETR of a message expected to have at most `maxBytes` bytes; a larger one is an error. */
  async retr(n: number, maxBytes = RETR_MAX_BYTES): Promise<Buffer> {
    const { raw, received } = await this.retrieve(n, maxBytes);
    if (raw === null) throw new MailpullError('protocol', `message ${n} has ${received} bytes, more than ${maxBytes}`);
    return raw;
  }

  async dele(n: number): Promise<void> {
    await this.command(`DELE ${n}`);
  }

  /** Ends the session; only now does the server remove the messages marked with DELE. */
  async quit(): Promise<void> {
    await this.command('QUIT');
    this.destroy();
  }

  destroy(): void {
    this.failure ??= new MailpullError('network', 'connection closed');
    this.socket.destroy();
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (this.sink) this.sink(chunk);
      else this.inbox.push(chunk);
      if (this.awaited > 0) {
        // replies to pipelined commands: wait with reading more until they are read
        if (this.inbox.length > PIPELINE_INBOX_BYTES) socket.pause();
      } else if (this.inbox.length > MAX_INBOX) {
        this.giveUp(new MailpullError('protocol', 'the server sent more than 4 MiB nobody asked for'));
      }
      this.wake?.();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new MailpullError('network', 'the server closed the connection')));
  }

  /** Fails the pending and every later command and drops the connection. */
  private giveUp(err: MailpullError): void {
    this.fail(err);
    this.inbox = new Pop3Inbox();
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (!this.failure) {
      if (err instanceof MailpullError) {
        this.failure = err;
      } else {
        const { kind, message } = classifyError(err);
        // whatever breaks a live socket and is not about TLS is a network failure
        this.failure = new MailpullError(kind === 'internal' ? 'network' : kind, message, { cause: err });
      }
    }
    this.wake?.();
  }

  private settle(socket: net.Socket, event: 'connect' | 'secureConnect'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.destroy();
        reject(
          event === 'connect'
            ? new MailpullError('timeout', `no connection to ${this.peer.host}:${this.peer.port} within ${this.options.timeoutMs / 1000} s`)
            : new PeerSilenceError(this.peer, `${this.step} (the TLS handshake)`, this.options.timeoutMs),
        );
      }, this.options.timeoutMs);
      const onReady = (): void => {
        cleanup();
        resolve();
      };
      const onError = (): void => {
        cleanup();
        reject(this.failure ?? new MailpullError('network', 'connection failed'));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.off(event, onReady);
        socket.off('error', onError);
        socket.off('close', onError);
      };
      socket.once(event, onReady);
      // our own error listener (attach) runs first and records the failure
      socket.once('error', onError);
      socket.once('close', onError);
    });
  }

  private send(line: string): Promise<void> {
    this.expect(stepOf(line));
    return this.sendAll([line]);
  }

  private expect(step: string): void {
    this.step = step;
    this.stepBytes = 0;
  }

  private get peer() {
    return { protocol: 'POP3', host: this.options.host, port: this.options.port };
  }

  /** Writes commands in one go (pipelining sends several). */
  private async sendAll(lines: readonly string[]): Promise<void> {
    if (this.failure) throw this.failure;
    for (const line of lines) this.options.trace?.(`C: ${redactCommand(line)}`);
    await new Promise<void>((resolve, reject) => {
      this.socket.write(lines.map((line) => `${line}\r\n`).join(''), 'utf8', (err) => (err ? reject(this.failure ?? err) : resolve()));
    });
  }

  private async command(line: string, duringLogin = false): Promise<string> {
    await this.send(line);
    return this.readStatus(duringLogin);
  }

  private waitForData(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = null;
        const step = this.stepBytes > 0 ? `${this.step}, ${this.stepBytes} bytes into its answer` : this.step;
        const err = new PeerSilenceError(this.peer, step, this.options.timeoutMs);
        this.fail(err);
        this.socket.destroy();
        reject(err);
      }, this.options.timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const line = this.inbox.takeLine();
      if (line !== null) return line;
      if (this.failure) throw this.failure;
      if (this.inbox.length > MAX_LINE) throw new MailpullError('protocol', 'the server sent an overlong line');
      await this.waitForData();
    }
  }

  private async readTracedLine(): Promise<string> {
    const line = await this.readLine();
    this.options.trace?.(`S: ${line.slice(0, 300)}`);
    return line;
  }

  private async readStatus(duringLogin: boolean): Promise<string> {
    return statusOf(await this.readTracedLine(), duringLogin);
  }

  private readListing(what: 'LIST' | 'UIDL'): Promise<Buffer> {
    const bounds = { keepBytes: LISTING_MAX_BYTES, maxLines: LISTING_MAX_LINES, overflow: 'fail', what } as const;
    return this.readMultiline(bounds).then((r) => r.body);
  }

  private async readMultiline(bounds: MultilineBounds): Promise<MultilineResult> {
    const decoder = new MultilineDecoder();
    const gathered = new ByteGatherer(bounds.declared ?? 0, bounds.keepBytes);
    let received = 0;
    let lines = 0;
    let overflowed = false;
    const overflow = (): void => {
      if (overflowed) return;
      overflowed = true;
      const limit =
        bounds.overflow === 'fail'
          ? `${bounds.keepBytes} bytes or ${bounds.maxLines ?? '∞'} lines`
          : `${bounds.keepBytes} + ${bounds.drainBytes ?? 0} bytes`;
      const kind = bounds.overflow === 'fail' ? 'permanent' : 'protocol';
      this.giveUp(new MailpullError(kind, `the server's ${bounds.what} reply is longer than ${limit}; connection dropped`));
    };
    const keep = (piece: Buffer): void => {
      received += piece.length;
      this.stepBytes = received;
      if (bounds.maxLines !== undefined) {
        for (let at = piece.indexOf(0x0a); at !== -1; at = piece.indexOf(0x0a, at + 1)) lines++;
        if (lines > bounds.maxLines) return overflow();
      }
      if (gathered.length < bounds.keepBytes) {
        const room = bounds.keepBytes - gathered.length;
        gathered.push(piece.length <= room ? piece : piece.subarray(0, room));
      }
      if (received > bounds.keepBytes && (bounds.overflow === 'fail' || received - bounds.keepBytes > (bounds.drainBytes ?? 0))) overflow();
    };
    const feed = (chunk: Buffer): void => {
      if (decoder.done) {
        this.inbox.push(chunk);
        return;
      }
      const { pieces: decoded, rest } = decoder.push(chunk);
      for (const piece of decoded) keep(piece);
      if (decoder.done) this.inbox.push(rest);
    };
    for (const pending of this.inbox.takeAll()) feed(pending);
    this.sink = feed;
    try {
      while (!decoder.done) await this.waitForData();
    } finally {
      this.sink = null;
    }
    if (overflowed && this.failure) throw this.failure;
    return { body: gathered.bytes(), received };
  }
}

/** The unique id in the answer to UIDL n; null when the server has none for that number. */
function uidOf(n: number, line: string): string | null {
  let text: string;
  try {
    text = statusOf(line, false);
  } catch (err) {
    if (err instanceof MailpullError && (err.kind === 'protocol' || err.kind === 'permanent')) return null;
    throw err;
  }
  return parseListing(Buffer.from(text, 'latin1')).get(n) ?? null;
}

/** The text of a +OK line; a -ERR or anything else throws. */
function statusOf(line: string, duringLogin: boolean): string {
  if (line.startsWith('+OK')) return line.slice(3).trim();
  if (line.startsWith('-ERR')) throw refusal(line.slice(4).trim(), duringLogin);
  throw new MailpullError('protocol', `unexpected server reply: ${line.slice(0, 200)}`);
}

function tlsSettings(options: Pop3ConnectOptions): tls.ConnectionOptions {
  return {
    host: options.host,
    servername: net.isIP(options.host) ? undefined : options.host,
    // one context per CA set, shared by every connection that trusts it
    secureContext: secureContextFor(options.tls.ca),
    rejectUnauthorized: options.tls.rejectUnauthorized,
  };
}
