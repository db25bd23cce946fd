/**
 * How to remove messages mailpull flagged \Deleted in one IMAP folder. With UIDPLUS, UID EXPUNGE
 * removes exactly ours. Without it, EXPUNGE removes every \Deleted message, so it runs only when
 * all of them are ours (all delivered); otherwise ours stay flagged and nothing is expunged.
 */
export function decideExpunge(
  uidplus: boolean,
  ours: readonly string[],
  flaggedDeletedOnServer: readonly string[],
): 'uid-expunge' | 'expunge' | 'leave-flagged' {
  if (uidplus) return 'uid-expunge';
  const mine = new Set(ours);
  return flaggedDeletedOnServer.every((uid) => mine.has(uid)) ? 'expunge' : 'leave-flagged';
}
