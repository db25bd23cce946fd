/** What names a remote mailbox; with any of it changed, the account points at another mailbox. */
export interface MailboxIdentity {
  protocol: string;
  host: string;
  port: number;
  username: string;
}

/**
 * Whether two settings name the same remote mailbox. When they do not, the UID index of the old
 * one must never decide anything for the new one: another server or user reuses UIDLs and UIDs,
 * and an old "delivered" entry would authorise deleting a message that was never downloaded.
 */
export const sameMailbox = (a: MailboxIdentity, b: MailboxIdentity): boolean =>
  a.protocol === b.protocol && a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port && a.username === b.username;
