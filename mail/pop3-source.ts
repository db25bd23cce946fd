import { createHash } from 'node:crypto';
import { type MessageRef, type ServerMessage } from '../core/download-plan';
import { contentKeys } from '../core/content-key';
import { MailpullError, withRef } from '../core/errors';
import { capaOffers } from '../core/pop3-replies';
import { retrievedSizeMismatch } from '../core/retrieved-size';
import { decideUpgrade, STARTTLS_REFUSED, type TlsOutcome } from '../core/tls-decision';
import { checkHost } from '../core/guarded-connect';
import { headerSectionHash } from '../core/pop3-identity';
import { DEFAULT_DRAIN_BYTES, HEADER_KEEP_BYTES, Pop3Client } from './pop3-client';
import type { Fetched, Listing, MailSession, MailSource, RemovableRef } from './source';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';
import type { NetworkPolicy } from '../core/network-policy';

export interface Pop3SourceOptions {
  timeoutMs: number;
  /** which addresses the server may have; checked after resolving, before connecting */
  networkPolicy: NetworkPolicy;
  /** how much of an oversize message is read and dropped before the connection is given up */
  drainBytes?: number;
}

interface Listed {
  number: number;
  size: number;
}

/** A command the server refused (-ERR) as null; any other failure (network, silence) still throws. */
async function refusedAsNull<T>(answer: Promise<T>): Promise<T | null> {
  try {
    return await answer;
  } catch (err) {
    if (err instanceof MailpullError && err.kind === 'protocol') return null;
    throw err;
  }
}

class Pop3Session implements MailSession {
  private byUid = new Map<string, Listed>();
  private listed: ServerMessage[] | null = null;
  /** the server answered TOP with -ERR: the delete check retrieves whole messages instead */
  private topRefused = false;

  constructor(
    private readonly client: Pop3Client,
    readonly tls: TlsOutcome,
    private readonly maxMessageBytes: number,
    private readonly drainBytes: number,
    /** the server's CAPA after login names PIPELINING (RFC 2449): commands may go before answers */
    private readonly pipelining: boolean,
  ) {}

  async list(): Promise<Listing> {
    const sizes = await this.client.list();
    const uids = await this.uniqueIds(sizes);
    this.byUid = new Map();
    const messages: ServerMessage[] = [];
    for (const [n, uid] of [...uids].sort((a, b) => a[0] - b[0])) {
      const size = sizes.get(n) ?? 0;
      this.byUid.set(uid, { number: n, size });
      messages.push({ folder: '', uidvalidity: '', uid, size, localFolder: 'INBOX', internalDate: null, flags: [], number: n });
    }
    this.listed = messages;
    return { messages, folders: [], missingFolders: [] };
  }

  /**
   * UIDL, or for a server without it, content keys from each message's headers and size. A UIDL
   * the listing holds more than once names no single message: those messages get the UIDL plus
   * their content key, so each is collected and none is ever deleted on the UIDL alone.
   */
  private async uniqueIds(sizes: Map<number, number>): Promise<Map<number, string>> {
    let uidl: Map<number, string>;
    try {
      uidl = await this.client.uidl();
    } catch (err) {
      if (!(err instanceof MailpullError) || err.kind !== 'protocol') throw err;
      const numbers = [...sizes.keys()].sort((a, b) => a - b);
      const keys = await this.contentKeysOf(numbers, sizes, 'the server supports neither UIDL nor TOP, so messages cannot be told apart');
      return new Map(numbers.map((n, i) => [n, keys[i]]));
    }
    const byUidl = new Map<string, number[]>();
    for (const [n, uid] of uidl) {
      if (!sizes.has(n)) continue;
      const numbers = byUidl.get(uid) ?? [];
      numbers.push(n);
      byUidl.set(uid, numbers);
    }
    const out = new Map<number, string>();
    for (const [uid, numbers] of byUidl) {
      if (numbers.length === 1) {
        out.set(numbers[0], uid);
        continue;
      }
      numbers.sort((a, b) => a - b);
      const keys = await this.contentKeysOf(numbers, sizes, 'the server has no TOP, so messages sharing a UIDL cannot be told apart');
      numbers.forEach((n, i) => out.set(n, `${uid}/${keys[i]}`));
    }
    return out;
  }

  private async contentKeysOf(numbers: readonly number[], sizes: Map<number, number>, withoutTop: string): Promise<string[]> {
    const messages: { headers: Buffer; size: number }[] = [];
    for (const n of numbers) {
      try {
        messages.push({ headers: await this.client.top(n), size: sizes.get(n) ?? 0 });
      } catch (err) {
        if (err instanceof MailpullError && err.kind === 'protocol') {
          throw new MailpullError('config', withoutTop);
        }
        throw err;
      }
    }
    return contentKeys(messages);
  }

  async *fetch(messages: readonly ServerMessage[]): AsyncIterable<Fetched> {
    if (!this.listed && !(await this.locate(messages))) await this.list();
    const present = messages.filter((m) => this.byUid.has(m.uid)); // the others are gone from the server meanwhile
    const requests = present.map((m) => this.listedAs(m.uid));
    let at = 0;
    try {
      for await (const got of this.client.retrieveEach(requests, this.maxMessageBytes, this.pipelining, this.drainBytes)) {
        const message = present[at];
        const listed = requests[at++].size;
        if (got.raw === null) {
          yield { message, raw: null, oversize: got.received };
          continue;
        }
        const sizeMismatch = retrievedSizeMismatch(listed, got.raw.length);
        yield sizeMismatch ? { message, raw: got.raw, sizeMismatch } : { message, raw: got.raw };
      }
    } catch (err) {
      // an error while retrieving names the message whose answer was being read
      throw at < present.length ? withRef(err, present[at]) : err;
    }
  }

  /** By UIDL alone: the index tells a reused UIDL's incarnations apart by uidvalidity, the server cannot. */
  async present<T extends MessageRef>(refs: readonly T[]): Promise<T[]> {
    const listed = this.listed ?? (await this.list()).messages;
    const uids = new Set(listed.map((m) => m.uid));
    return refs.filter((r) => r.folder === '' && uids.has(r.uid));
  }

  /**
   * DELE now, only where UIDL and size both match and the message is the one delivered: its
   * header section (TOP n 0) hashes as recorded, or, for a server whose TOP differs from RETR,
   * the whole message does. A same-sized message that took over the UIDL stays. The server
   * removes them at QUIT (commit).
   */
  async remove<T extends RemovableRef>(refs: readonly T[]): Promise<T[]> {
    const removed: T[] = [];
    for (const ref of await this.present(refs)) {
      const { number, size } = this.listedAs(ref.uid);
      if (size !== Number(ref.size) || !(await this.isDelivered(number, ref))) continue;
      await this.client.dele(number);
      removed.push(ref);
    }
    return removed;
  }

  private async isDelivered(number: number, ref: RemovableRef): Promise<boolean> {
    if (!ref.headerHash) return true; // recorded before header hashes were: size and UIDL only
    const headers = this.topRefused ? null : await refusedAsNull(this.client.top(number));
    // TOP is optional (RFC 1939): a server without it is asked for the whole message instead
    if (headers === null) this.topRefused = true;
    else if (headerSectionHash(headers, HEADER_KEEP_BYTES) === ref.headerHash) return true;
    if (!ref.contentHash) return false;
    const got = await refusedAsNull(this.client.retrieve(number, this.maxMessageBytes, this.drainBytes));
    return got !== null && got.raw !== null && createHash('sha256').update(got.raw).digest('hex') === ref.contentHash;
  }

  commit(): Promise<void> {
    return this.client.quit();
  }

  abort(): void {
    this.client.destroy();
  }

  /**
   * Message numbers are per session. A batch from the index carries the numbers of the last
   * listing: when UIDL n still names each of them, no full listing is needed (so a batch costs
   * in proportion to itself, not to the mailbox); any difference, and the caller lists.
   */
  private async locate(messages: readonly ServerMessage[]): Promise<boolean> {
    const numbers: number[] = [];
    for (const message of messages) {
      if (message.number === undefined) return false;
      numbers.push(message.number);
    }
    const uids = await this.client.uidlOfEach(numbers, this.pipelining);
    if (messages.some((m, i) => uids[i] !== m.uid)) return false;
    this.byUid = new Map(messages.map((m) => [m.uid, { number: m.number ?? 0, size: m.size }]));
    return true;
  }

  private listedAs(uid: string): Listed {
    const listed = this.byUid.get(uid);
    if (listed === undefined) throw new MailpullError('protocol', `message ${uid} is not on the server (list first)`);
    return listed;
  }
}

export function createPop3Source(options: Pop3SourceOptions): MailSource {
  return {
    async open(endpoint: MailboxEndpoint): Promise<MailSession> {
      const implicitTls = endpoint.tlsMode === 'direct';
      const checked = await checkHost(endpoint.host, options.networkPolicy, { timeoutMs: options.timeoutMs });
      const client = await Pop3Client.connect({
        host: endpoint.host,
        lookup: checked.lookup,
        port: endpoint.port,
        implicitTls,
        tls: { ca: endpoint.tlsCa ?? undefined, rejectUnauthorized: !endpoint.allowInvalidCertificates },
        timeoutMs: options.timeoutMs,
        trace: endpoint.trace,
      });
      try {
        let outcome: TlsOutcome = implicitTls ? 'implicit' : 'plaintext';
        let capabilities = await client.capa();
        if (!implicitTls) {
          const decision = decideUpgrade(endpoint.tlsMode, capabilities?.has('STLS') ?? false);
          if (decision === 'refuse') throw new MailpullError('tls', STARTTLS_REFUSED);
          if (decision === 'upgrade') {
            await client.startTls();
            outcome = 'starttls';
            // what the server announced before TLS no longer holds (RFC 2595)
            capabilities = await client.capa();
          }
        }
        // Without UTF8, Courier sends a message with 8-bit headers as a notice that wraps it.
        if (capaOffers(capabilities, 'UTF8')) await client.utf8();
        if (endpoint.authMethod === 'apop') await client.apop(endpoint.username, endpoint.secret);
        else if (endpoint.authMethod === 'xoauth2') await client.xoauth2(endpoint.username, endpoint.secret);
        else await client.login(endpoint.username, endpoint.secret);
        // capabilities may change with TLS and login (RFC 2449, 2595): ask again for PIPELINING
        const pipelining = (await client.capa())?.has('PIPELINING') ?? false;
        return new Pop3Session(client, outcome, endpoint.maxMessageBytes, options.drainBytes ?? DEFAULT_DRAIN_BYTES, pipelining);
      } catch (err) {
        client.destroy();
        throw err;
      }
    },
  };
}
