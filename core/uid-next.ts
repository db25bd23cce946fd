/**
 * What a folder's UIDNEXT tells, when the server tells it. RFC 3501 lets SELECT/EXAMINE leave
 * [UIDNEXT] out (Courier does): then only the UIDs fetched say how far the folder has gone.
 */

/** UIDNEXT as announced when the folder was opened, or null when the server announced none. */
export function announcedUidNext(uidNext: number | undefined | null): number | null {
  return typeof uidNext === 'number' && Number.isSafeInteger(uidNext) && uidNext > 0 ? uidNext : null;
}

/** Whether the folder may hold UIDs from `from` on: without UIDNEXT, any folder with messages may. */
export function mayHoldUidsFrom(exists: number, uidNext: number | null, from: number): boolean {
  return exists > 0 && (uidNext === null || uidNext > from);
}

/**
 * The highest UID the folder is known to have given out: the one known before, those fetched, and
 * below UIDNEXT (UIDs FETCH did not return were expunged before we saw them) when announced.
 */
export function highestGivenUid(known: number, fetched: readonly number[], uidNext: number | null): number {
  let highest = known;
  for (const uid of fetched) if (uid > highest) highest = uid;
  if (uidNext !== null && uidNext - 1 > highest) highest = uidNext - 1;
  return highest;
}

/**
 * Whether a folder holds mail the last listing did not see, when IDLE starts: another
 * UIDVALIDITY, or a UID above the highest seen. `highestOnServer` is UIDNEXT - 1, or without
 * UIDNEXT the last message's UID (null for an empty folder).
 */
export function unseenAtOpen(
  cursor: { uidvalidity: string; highestUid: number } | undefined,
  uidvalidity: string,
  highestOnServer: number | null,
): boolean {
  if (!cursor || cursor.uidvalidity !== uidvalidity) return true;
  return highestOnServer !== null && highestOnServer > cursor.highestUid;
}
