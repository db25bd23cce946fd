import type { FolderSelection } from './folder-selection';
import type { TlsMode } from './tls-decision';

/** How to reach a mail server: the address and how the connection is protected. */
export interface ConnectionSettings {
  host: string;
  port: number;
  tlsMode: TlsMode;
  /** extra CA certificate (PEM) to trust for this server */
  tlsCa: string | null;
  /** skip certificate checks; the status reports the connection as insecure */
  allowInvalidCertificates: boolean;
}

/** Who logs in; built from Postgres by the worker, never sent through Temporal. */
export interface Credentials {
  /** USER/PASS or LOGIN, APOP (POP3 only), or SASL XOAUTH2 with an OAuth2 access token */
  authMethod: 'password' | 'apop' | 'xoauth2';
  username: string;
  /** IMAP: log in as this user with the username's master rights (SASL PLAIN authorization id) */
  authzid?: string;
  /** the password, or for xoauth2 the access token */
  secret: string;
  /** receives the protocol dialog, credentials masked, when tracing is on */
  trace?: (line: string) => void;
}

/** A remote mailbox to collect: where and how to log in, and what to take from it. */
export interface MailboxEndpoint extends ConnectionSettings, Credentials {
  protocol: 'pop3' | 'imap';
  /** IMAP: which folders to collect */
  folders: FolderSelection;
  /** the account's effective size limit: a message with more bytes than this is not kept */
  maxMessageBytes: number;
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
