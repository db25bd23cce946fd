import type { ImapFlow } from 'imapflow';
import { decideExpunge } from '../core/expunge-decision';
import type { MessageRef, ServerMessage } from '../core/download-plan';
import { MailpullError, withRef } from '../core/errors';
import { uidSets } from '../core/uid-set';
import {
  localFolderFor,
  missingFolders,
  selectFolders,
  type FolderSelection,
  type PersonalNamespace,
  type RemoteFolder,
} from '../core/folder-selection';
import { announcedUidNext, highestGivenUid, mayHoldUidsFrom } from '../core/uid-next';
import type { TlsOutcome } from '../core/tls-decision';
import { ByteGatherer } from './byte-gatherer';
import { connectImap, imapError, silenceOf } from './imap-connect';
import type { Fetched, Listing, MailSession, MailSource, RemovableRef } from './source';
import type { FolderCursor, FolderListing, MailboxEndpoint } from '../core/mailbox-endpoint';
import type { NetworkPolicy } from '../core/network-policy';

export interface ImapSourceOptions {
  timeoutMs: number;
  /** which addresses the server may have; checked after resolving, before connecting */
  networkPolicy: NetworkPolicy;
  /** messages above this are fetched in pieces of this size instead of in one response */
  chunkBytes?: number;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;

/** IMAP flags worth keeping with a stored copy; \Recent is per session and meaningless later. */
const keptFlags = (flags: Set<string> | undefined): string[] => [...(flags ?? [])].filter((f) => f !== '\\Recent');

/** imapflow answers a refused SEARCH, STORE or EXPUNGE with false: a refusal, never "nothing found". */
function refusedIfFalse<T>(result: T | false | undefined, command: string): T {
  if (result === false || result === undefined) throw new MailpullError('protocol', `the IMAP server refused ${command}`);
  return result;
}

function groupByFolder<T extends MessageRef>(refs: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const ref of refs) {
    const list = groups.get(ref.folder) ?? [];
    list.push(ref);
    groups.set(ref.folder, list);
  }
  return groups;
}

class ImapSession implements MailSession {
  /** `uidNext` as announced at SELECT/EXAMINE: imapflow raises its own copy as FETCH shows UIDs */
  private opened: { path: string; readOnly: boolean; uidvalidity: string; uidNext: number | null } | null = null;

  constructor(
    private readonly client: ImapFlow,
    readonly tls: TlsOutcome,
    private readonly folders: readonly RemoteFolder[],
    /** every folder the server listed, and the account's selection: to tell which it lacks */
    private readonly selection: { listed: readonly RemoteFolder[]; wanted: FolderSelection },
    private readonly options: Required<ImapSourceOptions>,
    private readonly maxMessageBytes: number,
    private readonly personal: PersonalNamespace | null,
  ) {}

  private async call<T>(work: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work();
    } catch (err) {
      throw imapError(err, this.options.timeoutMs, this.client);
    }
    const silence = silenceOf(this.client);
    if (silence) throw silence;
    return result;
  }

  /** EXAMINE for reading (collecting can never change a flag), SELECT only to delete. */
  private async open(path: string, readOnly: boolean): Promise<string> {
    return (await this.openBox(path, readOnly)).uidvalidity;
  }

  private async openBox(path: string, readOnly: boolean): Promise<NonNullable<ImapSession['opened']>> {
    if (this.opened?.path === path && (this.opened.readOnly === readOnly || !this.opened.readOnly)) return this.opened;
    const box = await this.call(() => this.client.mailboxOpen(path, { readOnly }));
    this.opened = { path, readOnly, uidvalidity: String(box.uidValidity), uidNext: announcedUidNext(box.uidNext) };
    return this.opened;
  }

  private toMessage(
    folder: RemoteFolder,
    uidvalidity: string,
    m: { uid: number; size?: number; internalDate?: Date | string; flags?: Set<string> },
  ): ServerMessage {
    return {
      folder: folder.path,
      uidvalidity,
      uid: String(m.uid),
      size: m.size ?? 0,
      localFolder: localFolderFor(folder, this.personal),
      internalDate: m.internalDate ? new Date(m.internalDate) : null,
      flags: keptFlags(m.flags),
    };
  }

  async list(cursors: readonly FolderCursor[]): Promise<Listing> {
    const messages: ServerMessage[] = [];
    const folders: FolderListing[] = [];
    const query = { uid: true, size: true, internalDate: true, flags: true } as const;
    for (const folder of this.folders) {
      const { uidvalidity, uidNext } = await this.openBox(folder.path, true);
      const exists = this.client.mailbox ? this.client.mailbox.exists : 0;
      const cursor = cursors.find((c) => c.folder === folder.path);
      const resynced = cursor !== undefined && cursor.uidvalidity !== uidvalidity;
      const known = cursor && !resynced ? cursor : null;
      const from = (known?.highestUid ?? 0) + 1;
      const fetchedUids: number[] = [];
      const found: ServerMessage[] = [];
      if (known && known.pendingUids.length > 0) {
        for (const set of uidSets(known.pendingUids)) {
          const pending = await this.call(() => this.client.fetchAll(set, query, { uid: true }));
          found.push(...pending.filter((m) => m.uid < from).map((m) => this.toMessage(folder, uidvalidity, m)));
        }
      }
      if (mayHoldUidsFrom(exists, uidNext, from)) {
        // "n:*" always includes the last message, even when its UID is below n.
        const fresh = await this.call(() => this.client.fetchAll(`${from}:*`, query, { uid: true }));
        for (const m of fresh) {
          if (m.uid < from) continue;
          found.push(this.toMessage(folder, uidvalidity, m));
          fetchedUids.push(m.uid);
        }
      }
      const highestUid = highestGivenUid(known?.highestUid ?? 0, fetchedUids, uidNext);
      found.sort((a, b) => Number(a.uid) - Number(b.uid));
      messages.push(...found);
      folders.push({ folder: folder.path, uidvalidity, highestUid, resynced });
    }
    const known = cursors.filter((c) => c.pendingUids.length > 0).map((c) => c.folder);
    return { messages, folders, missingFolders: missingFolders(this.selection.listed, this.selection.wanted, known) };
  }

  /**
   * Every FETCH asks for a partial body (BODY.PEEK[]<start.length>), so a compliant server can
   * never send more than asked: at most maxMessageBytes + 1 bytes of a message, in pieces of at
   * most chunkBytes. A server that sends more than asked anyway fails the fetch. Messages that fit
   * one piece are fetched many per command and handed on as each arrives (one UID FETCH streams
   * them, holding one at a time); larger ones are fetched alone, piece by piece.
   */
  async *fetch(messages: readonly ServerMessage[]): AsyncIterable<Fetched> {
    for (const [path, inFolder] of groupByFolder(messages)) {
      // a folder deleted since the listing: its messages are not answered (gone), the others are
      if (!this.folders.some((f) => f.path === path)) continue;
      const uidvalidity = await this.open(path, true);
      let run: ServerMessage[] = [];
      for (const message of inFolder.filter((m) => m.uidvalidity === uidvalidity)) {
        if (message.size + 1 > this.options.chunkBytes) {
          yield* this.stream(run);
          run = [];
          try {
            const fetched = await this.fetchRest(message, Buffer.alloc(0));
            if (fetched) yield fetched;
          } catch (err) {
            throw withRef(err, message);
          }
          continue;
        }
        // the server answers in its own (UID) order: a message out of order, such as one that
        // failed before and comes last, starts a command of its own so the order given is kept
        if (run.length > 0 && Number(message.uid) <= Number(run[run.length - 1].uid)) {
          yield* this.stream(run);
          run = [];
        }
        run.push(message);
      }
      yield* this.stream(run);
    }
  }

  /**
   * UID FETCH of the first piece of each message, handed on as each answer arrives. A message
   * whose piece came full may be longer than declared: the command is left (imapflow reads the
   * rest of its answers), the message completed alone, and the others asked for again.
   */
  private async *stream(run: readonly ServerMessage[]): AsyncIterable<Fetched> {
    const piece = Math.min(this.options.chunkBytes, this.maxMessageBytes + 1);
    let rest = run;
    while (rest.length > 0) {
      const asked = new Map(rest.map((m) => [m.uid, m]));
      const answered = new Set<string>();
      let longer: { message: ServerMessage; first: Buffer } | null = null;
      // a server that answers without end (rows not asked for, or asked for again) fails the fetch
      let extraRows = 0;
      let bytes = 0;
      try {
        sets: for (const set of uidSets(rest.map((m) => m.uid))) {
          for await (const row of this.client.fetch(set, { uid: true, source: { start: 0, maxLength: piece } }, { uid: true })) {
            const message = asked.get(String(row.uid));
            const source = row.source ?? Buffer.alloc(0);
            bytes += source.length;
            const unasked = message === undefined || answered.has(message.uid);
            if (unasked) extraRows++;
            if (bytes > piece * rest.length || extraRows > rest.length) {
              throw new MailpullError('protocol', `the IMAP server sent more than was asked for ${rest.length} messages`);
            }
            if (message === undefined || unasked) continue; // not asked for, or again: nothing to keep
            if (source.length > piece) {
              throw new MailpullError(
                'protocol',
                `the IMAP server sent more of message ${row.uid} than asked (${source.length} bytes for ${piece})`,
              );
            }
            answered.add(message.uid);
            if (source.length === piece) {
              longer = { message, first: source };
              break sets;
            }
            yield { message, raw: source };
          }
        }
      } catch (err) {
        // the answer stopped at the first message not received: most likely the one it choked on
        const culprit = rest.find((m) => !answered.has(m.uid)) ?? rest[0];
        throw withRef(imapError(err, this.options.timeoutMs, this.client), culprit);
      }
      if (longer === null) return;
      try {
        const fetched = await this.fetchRest(longer.message, longer.first);
        if (fetched) yield fetched;
      } catch (err) {
        throw withRef(err, longer.message);
      }
      rest = rest.filter((m) => !answered.has(m.uid));
    }
  }

  /**
   * The rest of a message after its first piece (possibly empty), in chunks, stopping at
   * maxMessageBytes + 1; gathered into one buffer sized by the declared size.
   */
  private async fetchRest(message: ServerMessage, first: Buffer): Promise<Fetched | null> {
    const gathered = new ByteGatherer(Math.max(message.size, first.length), this.maxMessageBytes + 1);
    gathered.push(first);
    for (;;) {
      if (gathered.length > this.maxMessageBytes) return { message, raw: null, oversize: gathered.length };
      const want = Math.min(this.options.chunkBytes, this.maxMessageBytes + 1 - gathered.length);
      const start = gathered.length;
      const row = await this.call(() =>
        this.client.fetchOne(message.uid, { uid: true, source: { start, maxLength: want } }, { uid: true }),
      );
      if (!row) return null;
      const piece = row.source ?? Buffer.alloc(0);
      if (piece.length > want) throw new MailpullError('protocol', `the IMAP server sent more of message ${message.uid} than asked`);
      gathered.push(piece);
      if (piece.length < want) return { message, raw: gathered.bytes() };
    }
  }

  async present<T extends MessageRef>(refs: readonly T[]): Promise<T[]> {
    const out: T[] = [];
    for (const [path, inFolder] of groupByFolder(refs)) {
      if (!this.folders.some((f) => f.path === path)) continue;
      const uidvalidity = await this.open(path, true);
      const current = inFolder.filter((r) => r.uidvalidity === uidvalidity);
      if (current.length === 0) continue;
      const found = new Set<string>();
      for (const set of uidSets(current.map((r) => r.uid))) for (const uid of await this.searchUids(set)) found.add(String(uid));
      out.push(...current.filter((r) => found.has(r.uid)));
    }
    return out;
  }

  private async searchUids(uids: string): Promise<number[]> {
    return refusedIfFalse(await this.call(() => this.client.search({ uid: uids }, { uid: true })), 'UID SEARCH');
  }

  async remove<T extends RemovableRef>(refs: readonly T[]): Promise<T[]> {
    const removed: T[] = [];
    const uidplus = this.client.capabilities.has('UIDPLUS');
    for (const [path, inFolder] of groupByFolder(await this.present(refs))) {
      const uidvalidity = await this.open(path, false);
      const ours = inFolder.filter((r) => r.uidvalidity === uidvalidity);
      if (ours.length === 0) continue;
      const sets = uidSets(ours.map((r) => r.uid));
      for (const set of sets)
        refusedIfFalse(await this.call(() => this.client.messageFlagsAdd(set, ['\\Deleted'], { uid: true })), 'UID STORE');
      const flagged = uidplus
        ? []
        : refusedIfFalse(await this.call(() => this.client.search({ deleted: true }, { uid: true })), 'SEARCH DELETED');
      const decision = decideExpunge(
        uidplus,
        ours.map((r) => r.uid),
        flagged.map(String),
      );
      if (decision === 'leave-flagged') continue;
      for (const set of sets) refusedIfFalse(await this.call(() => this.client.messageDelete(set, { uid: true })), 'UID EXPUNGE');
      removed.push(...ours);
    }
    return removed;
  }

  async commit(): Promise<void> {
    await this.call(() => this.client.logout());
  }

  abort(): void {
    this.client.close();
  }
}

/**
 * The folders of the account's selection that exist, and every folder the server lists. Named
 * folders missing do not stop the others (the listing reports them); none at all to collect is
 * a clear error naming them.
 */
export async function collectedFolders(
  client: ImapFlow,
  endpoint: MailboxEndpoint,
  timeoutMs: number,
): Promise<{ collect: RemoteFolder[]; listed: RemoteFolder[] }> {
  let answer;
  try {
    answer = await client.list();
  } catch (err) {
    throw imapError(err, timeoutMs, client);
  }
  const listed = answer.map((f) => ({ path: f.path, delimiter: f.delimiter, flags: [...f.flags], specialUse: f.specialUse ?? null }));
  const { collect, missing } = selectFolders(listed, endpoint.folders);
  if (collect.length === 0 && missing.length > 0) throw new MailpullError('config', `remote folder(s) not found: ${missing.join(', ')}`);
  return { collect, listed };
}

/** The personal namespace imapflow read with NAMESPACE at login (none: the server has no NAMESPACE). */
function personalNamespace(client: ImapFlow): PersonalNamespace | null {
  const ns = client.namespace;
  return ns ? { prefix: ns.prefix, delimiter: ns.delimiter ?? null } : null;
}

export function createImapSource(options: ImapSourceOptions): MailSource {
  const settings = { chunkBytes: DEFAULT_CHUNK, ...options };
  return {
    async open(endpoint: MailboxEndpoint): Promise<MailSession> {
      const { client, tls } = await connectImap(endpoint, {
        timeoutMs: options.timeoutMs,
        networkPolicy: options.networkPolicy,
        maxLiteralBytes: settings.chunkBytes,
      });
      try {
        const { collect, listed } = await collectedFolders(client, endpoint, options.timeoutMs);
        return new ImapSession(
          client,
          tls,
          collect,
          { listed, wanted: endpoint.folders },
          settings,
          endpoint.maxMessageBytes,
          personalNamespace(client),
        );
      } catch (err) {
        client.close();
        throw err;
      }
    },
  };
}
