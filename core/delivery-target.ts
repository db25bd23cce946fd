import type { TlsMode } from './tls-decision';

export type TargetKind = 'lmtp' | 'smtp' | 'imap';

/** A mail server mailpull delivers into: everything but the password. */
export interface DeliveryTargetSettings {
  name: string;
  kind: TargetKind;
  /** host and port, or (LMTP only) a unix socket path */
  host: string | null;
  port: number | null;
  socketPath: string | null;
  tlsMode: TlsMode;
  tlsCa: string | null;
  allowInvalidCertificates: boolean;
  /** SMTP AUTH user, or the IMAP login */
  username: string | null;
  /**
   * IMAP: log in as each recipient with the username's master rights, into the username's own
   * mailbox, or (oauth) as each recipient with the XOAUTH2 login its local account links
   * (db/append-logins.ts)
   */
  imapLogin: 'master' | 'user' | 'oauth' | null;
  /** pooled connections at most */
  maxConnections: number;
}

export type DeliveryTarget = DeliveryTargetSettings & { id: string; passwordSet: boolean; createdAt: Date; updatedAt: Date };

/** A target as the activities use it: password opened; updatedAt tells a pooled client it is stale. */
export type StoredDeliveryTarget = DeliveryTarget & { password: string | null };
