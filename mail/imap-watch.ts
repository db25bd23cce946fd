import type { ImapFlow, MailboxObject } from 'imapflow';
import { MailpullError } from '../core/errors';
import { announcedUidNext, unseenAtOpen } from '../core/uid-next';
import { connectImap, imapError } from './imap-connect';
import { collectedFolders } from './imap-source';
import type { FolderCursor, MailboxEndpoint } from '../core/mailbox-endpoint';
import type { NetworkPolicy } from '../core/network-policy';

export type WatchOutcome = 'new-mail' | 'unsupported';

export interface WatchOptions {
  timeoutMs: number;
  /** which addresses the server may have; checked after resolving, before connecting */
  networkPolicy: NetworkPolicy;
  /** IDLE is re-issued after this long, before servers drop an idle client (~29 min) */
  maxIdleMs: number;
  /** at most this many folders are watched, one connection each */
  maxFolders: number;
  signal: AbortSignal;
}

/** UIDNEXT - 1, or, from a server that announced no UIDNEXT, the last message's UID; null when empty. */
async function highestOnServer(client: ImapFlow, box: MailboxObject, timeoutMs: number): Promise<number | null> {
  const uidNext = announcedUidNext(box.uidNext);
  if (uidNext !== null) return uidNext - 1;
  if (box.exists === 0) return null;
  const last = await client.fetchOne('*', { uid: true }).catch((err: unknown) => {
    throw imapError(err, timeoutMs);
  });
  return last ? last.uid : null;
}

/**
 * Holds IMAP IDLE on the collected folders until one of them gets new mail ('new-mail'), the
 * server turns out to have no IDLE ('unsupported'), a connection drops (throws, so the caller
 * reconnects with backoff) or the signal aborts (throws). Mail that arrived since the last
 * listing counts as new at once.
 */
export async function watchForNewMail(
  endpoint: MailboxEndpoint,
  cursors: readonly FolderCursor[],
  options: WatchOptions,
): Promise<WatchOutcome> {
  const clients: ImapFlow[] = [];
  const connect = async (): Promise<ImapFlow> => {
    const { client } = await connectImap(endpoint, {
      timeoutMs: options.timeoutMs,
      networkPolicy: options.networkPolicy,
      autoIdle: { maxIdleMs: options.maxIdleMs },
    });
    clients.push(client);
    return client;
  };
  let settle: (outcome: WatchOutcome | Error) => void = () => undefined;
  const done = new Promise<WatchOutcome | Error>((resolve) => (settle = resolve));
  const onAbort = (): void => settle(new MailpullError('internal', 'watch cancelled'));
  options.signal.addEventListener('abort', onAbort);
  try {
    const first = await connect();
    if (!first.capabilities.has('IDLE')) return 'unsupported';
    const folders = (await collectedFolders(first, endpoint, options.timeoutMs)).collect.slice(0, options.maxFolders);
    for (const [i, folder] of folders.entries()) {
      const client = i === 0 ? first : await connect();
      client.on('exists', (data: { count: number; prevCount: number }) => {
        if (data.count > data.prevCount) settle('new-mail');
      });
      client.on('close', () => settle(new MailpullError('network', `the IDLE connection for ${folder.path} closed`)));
      const box = await client.mailboxOpen(folder.path, { readOnly: true }).catch((err: unknown) => {
        throw imapError(err, options.timeoutMs, client);
      });
      const cursor = cursors.find((c) => c.folder === folder.path);
      if (unseenAtOpen(cursor, String(box.uidValidity), await highestOnServer(client, box, options.timeoutMs))) return 'new-mail';
    }
    const outcome = await done;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    for (const client of clients) {
      client.removeAllListeners('close');
      client.close();
    }
  }
}
