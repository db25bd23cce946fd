import type { FolderSelection } from '../core/folder-selection';
import type { MessageRef, ServerMessage } from '../core/download-plan';
import type { TlsMode, TlsOutcome } from '../core/tls-decision';

/** Where and how to log in; built by the activity from Postgres, never sent through Temporal. */
export interface SourceEndpoint {
  protocol: 'pop3' | 'imap';
  host: string;
  port: number;
  tlsMode: TlsMode;
  /** extra CA certificate (PEM) to trust for this account */
  tlsCa: string | null;
  /** skip certificate checks; the status reports the connection as insecure */
  allowInvalidCertificates: boolean;
  /** USER/PASS or LOGIN, APOP (POP3 only), or SASL XOAUTH2 with an OAuth2 access token */
  authMethod: 'password' | 'apop' | 'xoauth2';
  /** IMAP: which folders to collect */
  folders: FolderSelection;
  username: string;
  /** IMAP: log in as this user with the username's master rights (SASL PLAIN authorization id) */
  authzid?: string;
  /** the password, or for xoauth2 the access token */
  secret: string;
  /** the account's size limit: a message that turns out larger is not kept in memory */
  maxMessageBytes: number;
  /** receives the protocol dialog, credentials masked, when tracing is on */
  trace?: (line: string) => void;
}

/** What mailpull already knows about one IMAP folder, so a listing fetches only what is new. */
export interface FolderCursor {
  folder: string;
  uidvalidity: string;
  /** every UID up to this one has been seen */
  highestUid: number;
  /** seen but not yet delivered: looked up again each cycle */
  pendingUids: string[];
}

export interface FolderListing {
  folder: string;
  uidvalidity: string;
  highestUid: number;
  /** the folder's UIDVALIDITY differs from the cursor's: the mailbox was recreated or migrated */
  resynced: boolean;
}

export interface Listing {
  /** messages to consider: for POP3 all of them, for IMAP the new and the pending ones */
  messages: ServerMessage[];
  folders: FolderListing[];
}

/** A downloaded message, or one the server sent more of than the size limit allows (bytes received). */
export type Fetched = { message: ServerMessage; raw: Buffer } | { message: ServerMessage; raw: null; oversize: number };

/** One logged-in session on a remote mailbox. */
export interface MailSession {
  readonly tls: TlsOutcome;
  /** messages to consider, oldest first per folder */
  list(cursors: readonly FolderCursor[]): Promise<Listing>;
  /** the raw messages, byte for byte, in the order given; a message gone meanwhile is skipped */
  fetch(messages: readonly ServerMessage[]): AsyncIterable<Fetched>;
  /** which of these messages are still on the server */
  present<T extends MessageRef>(refs: readonly T[]): Promise<T[]>;
  /** removes messages (POP3: on commit; IMAP: flag and expunge); returns those removed */
  remove<T extends MessageRef & { size: number }>(refs: readonly T[]): Promise<T[]>;
  /** ends the session cleanly, applying POP3 deletions */
  commit(): Promise<void>;
  /** drops the session without applying anything */
  abort(): void;
}

export interface MailSource {
  open(endpoint: SourceEndpoint): Promise<MailSession>;
}
