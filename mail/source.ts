import type { MessageRef, ServerMessage } from '../core/download-plan';
import type { FolderCursor, FolderListing, MailboxEndpoint } from '../core/mailbox-endpoint';
import type { SizeMismatch } from '../core/retrieved-size';
import type { TlsOutcome } from '../core/tls-decision';

export interface Listing {
  /** messages to consider: for POP3 all of them, for IMAP the new and the pending ones */
  messages: ServerMessage[];
  folders: FolderListing[];
  /** IMAP folders the account's selection wants that the server does not list (POP3: none) */
  missingFolders: string[];
}

/**
 * A fetched message: its bytes, or, when more than the endpoint's maxMessageBytes arrived, only
 * the marker `oversize` = bytes received (more than the limit; IMAP stops at limit + 1, POP3 reads
 * the whole message and drops it, so there it is the true size). The session stays usable.
 */
export type Fetched = FetchedRaw | { message: ServerMessage; raw: null; oversize: number };

export interface FetchedRaw {
  message: ServerMessage;
  raw: Buffer;
  /** POP3: RETR returned another size than LIST declared; the message must stay on the server */
  sizeMismatch?: SizeMismatch;
}

/** A message to remove, with the size recorded when it was listed: POP3 deletes only on a match. */
export interface RemovableRef extends MessageRef {
  size: number;
  /** POP3: the hash of the header section delivered (core/pop3-identity.ts); when set, TOP must match it */
  headerHash?: string | null;
  /** POP3: the SHA-256 of the message delivered, checked when the header section differs */
  contentHash?: string | null;
}

/** One logged-in session on a remote mailbox. */
export interface MailSession {
  readonly tls: TlsOutcome;
  /** messages to consider, oldest first per folder */
  list(cursors: readonly FolderCursor[]): Promise<Listing>;
  /**
   * The raw messages, byte for byte, in the order given; a message gone meanwhile is skipped. An
   * error thrown while fetching one message is a MailpullError whose `ref` names it.
   */
  fetch(messages: readonly ServerMessage[]): AsyncIterable<Fetched>;
  /** which of these messages are still on the server */
  present<T extends MessageRef>(refs: readonly T[]): Promise<T[]>;
  /**
   * Removes messages (POP3: on commit; IMAP: flag and expunge); returns those removed. POP3
   * removes a message only when its UIDL and its LIST size both match the ref, and its header
   * section the hash recorded when it was downloaded.
   */
  remove<T extends RemovableRef>(refs: readonly T[]): Promise<T[]>;
  /** ends the session cleanly, applying POP3 deletions */
  commit(): Promise<void>;
  /** drops the session without applying anything */
  abort(): void;
}

export interface MailSource {
  open(endpoint: MailboxEndpoint): Promise<MailSession>;
}
