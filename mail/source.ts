import type { ServerMessage } from '../core/download-plan';
import type { TlsMode, TlsOutcome } from '../core/tls-decision';

/** Where and how to log in; built by the activity from Postgres, never sent through Temporal. */
export interface SourceEndpoint {
  protocol: 'pop3';
  host: string;
  port: number;
  tlsMode: TlsMode;
  /** extra CA certificate (PEM) to trust for this account */
  tlsCa: string | null;
  username: string;
  password: string;
}

/** One logged-in session on a remote mailbox. */
export interface MailSession {
  readonly tls: TlsOutcome;
  /** every message on the server, oldest first */
  list(): Promise<ServerMessage[]>;
  /** the raw message, byte for byte */
  fetch(uid: string): Promise<Buffer>;
  /** marks messages for removal; nothing is removed before commit() */
  markDeleted(uids: readonly string[]): Promise<void>;
  /** ends the session cleanly, applying the marked deletions */
  commit(): Promise<void>;
  /** drops the session without applying anything */
  abort(): void;
}

export interface MailSource {
  open(endpoint: SourceEndpoint): Promise<MailSession>;
}
