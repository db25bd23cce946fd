import { messageKey, type MessageRef, type ServerMessage } from '../core/download-plan';
import { contentKeys } from '../core/content-key';
import { MailpullError } from '../core/errors';
import { decideUpgrade, type TlsOutcome } from '../core/tls-decision';
import { Pop3Client } from './pop3-client';
import type { Fetched, Listing, MailSession, MailSource, SourceEndpoint } from './source';

export interface Pop3SourceOptions {
  timeoutMs: number;
}

class Pop3Session implements MailSession {
  private numberByUid = new Map<string, number>();

  constructor(
    private readonly client: Pop3Client,
    readonly tls: TlsOutcome,
  ) {}

  private listed: ServerMessage[] | null = null;

  async list(): Promise<Listing> {
    const sizes = await this.client.list();
    const uids = await this.uniqueIds(sizes);
    this.numberByUid = new Map();
    const messages: ServerMessage[] = [];
    for (const [n, uid] of [...uids].sort((a, b) => a[0] - b[0])) {
      this.numberByUid.set(uid, n);
      messages.push({ folder: '', uidvalidity: '', uid, size: sizes.get(n) ?? 0, localFolder: 'INBOX', internalDate: null, flags: [] });
    }
    this.listed = messages;
    return { messages, folders: [] };
  }

  /** UIDL, or for a server without it, content keys from each message's headers and size. */
  private async uniqueIds(sizes: Map<number, number>): Promise<Map<number, string>> {
    try {
      return await this.client.uidl();
    } catch (err) {
      if (!(err instanceof MailpullError) || err.kind !== 'protocol') throw err;
    }
    const numbers = [...sizes.keys()].sort((a, b) => a - b);
    const messages: { headers: Buffer; size: number }[] = [];
    for (const n of numbers) {
      try {
        messages.push({ headers: await this.client.top(n), size: sizes.get(n) ?? 0 });
      } catch (err) {
        if (err instanceof MailpullError && err.kind === 'protocol') {
          throw new MailpullError('config', 'the server supports neither UIDL nor TOP, so messages cannot be told apart');
        }
        throw err;
      }
    }
    const keys = contentKeys(messages);
    return new Map(numbers.map((n, i) => [n, keys[i]]));
  }

  async *fetch(messages: readonly ServerMessage[]): AsyncIterable<Fetched> {
    if (!this.listed) await this.list();
    for (const message of messages) {
      const n = this.numberByUid.get(message.uid);
      if (n !== undefined) yield { message, raw: await this.client.retr(n) };
    }
  }

  async present<T extends MessageRef>(refs: readonly T[]): Promise<T[]> {
    const listed = this.listed ?? (await this.list()).messages;
    const keys = new Set(listed.map(messageKey));
    return refs.filter((r) => keys.has(messageKey(r)));
  }

  /** DELE now; the server removes them at QUIT (commit). */
  async remove<T extends MessageRef>(refs: readonly T[]): Promise<T[]> {
    const here = await this.present(refs);
    for (const ref of here) await this.client.dele(this.numberOf(ref.uid));
    return here;
  }

  commit(): Promise<void> {
    return this.client.quit();
  }

  abort(): void {
    this.client.destroy();
  }

  private numberOf(uid: string): number {
    const n = this.numberByUid.get(uid);
    if (n === undefined) throw new MailpullError('protocol', `message ${uid} is not on the server (list first)`);
    return n;
  }
}

export function createPop3Source(options: Pop3SourceOptions): MailSource {
  return {
    async open(endpoint: SourceEndpoint): Promise<MailSession> {
      const implicitTls = endpoint.tlsMode === 'direct';
      const client = await Pop3Client.connect({
        host: endpoint.host,
        port: endpoint.port,
        implicitTls,
        tls: { ca: endpoint.tlsCa ?? undefined, rejectUnauthorized: !endpoint.allowInvalidCertificates },
        timeoutMs: options.timeoutMs,
        trace: endpoint.trace,
      });
      try {
        let outcome: TlsOutcome = implicitTls ? 'implicit' : 'plaintext';
        if (!implicitTls) {
          const capabilities = await client.capa();
          if (decideUpgrade(endpoint.tlsMode, capabilities?.has('STLS') ?? false) === 'upgrade') {
            await client.startTls();
            outcome = 'starttls';
          }
        }
        if (endpoint.authMethod === 'apop') await client.apop(endpoint.username, endpoint.secret);
        else if (endpoint.authMethod === 'xoauth2') await client.xoauth2(endpoint.username, endpoint.secret);
        else await client.login(endpoint.username, endpoint.secret);
        return new Pop3Session(client, outcome);
      } catch (err) {
        client.destroy();
        throw err;
      }
    },
  };
}
