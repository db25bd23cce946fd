import { createHash } from 'node:crypto';

/**
 * POP3 unique ids are unique only among the messages on the server at one time: RFC 1939 lets a
 * server reuse one once its message is gone, and servers that derive it from the content give a
 * message sent again the id of the first. The index therefore keeps one row per UIDL *and*
 * incarnation (its `uidvalidity`: '' for the first, else the time it was first seen again).
 */

/**
 * A hash of a message's header section, the blank line after it included, as TOP n 0 serves it;
 * of at most its first `keepBytes` (what the POP3 client keeps of a TOP answer).
 */
export function headerSectionHash(message: Buffer, keepBytes: number): string {
  const end = message.indexOf('\r\n\r\n');
  const section = end === -1 ? message : message.subarray(0, end + 4);
  return createHash('sha256').update(section.subarray(0, keepBytes)).digest('hex');
}

/** One index row of a UIDL, as a listing needs it. */
export interface KnownIncarnation {
  incarnation: string;
  size: number;
  collected: boolean;
  /** marked no longer on the server */
  gone: boolean;
}

export interface Placement {
  /** the incarnation the listed message is recorded as */
  incarnation: string;
  /** a collected incarnation the server no longer serves under this UIDL */
  retire: string | null;
}

/**
 * Which row a listed message is. `known` holds the UIDL's rows oldest first; at most one is not
 * gone. A collected message still listed with its size is the same message (nothing cheaper
 * than a download could tell a same-sized stranger apart: the delete pass checks the size
 * again). A different size, or a UIDL seen again after its collected message was gone, is a new
 * message: a new incarnation. An uncollected row is the message still to collect, revived if
 * it was marked gone (a listing that missed it once does not lose it).
 */
export function placeListed(size: number, known: readonly KnownIncarnation[], fresh: string): Placement {
  const current = known.find((k) => !k.gone);
  if (current) {
    if (!current.collected || current.size === size) return { incarnation: current.incarnation, retire: null };
    return { incarnation: fresh, retire: current.incarnation };
  }
  const latest = known.at(-1);
  if (latest === undefined) return { incarnation: '', retire: null };
  if (!latest.collected) return { incarnation: latest.incarnation, retire: null };
  return { incarnation: fresh, retire: null };
}

/** Per content hash: collected POP3 messages delivered (not recognised) and those still on the server. */
export interface CollectedCopies {
  contentHash: string;
  delivered: number;
  onServer: number;
}

/**
 * Which downloaded POP3 messages are messages already delivered, served again under another key:
 * while fewer copies of a content are on the server than were delivered, a new key with that
 * content is one of them coming back, recognised instead of delivered. Two copies that arrive
 * together are both delivered, as are copies beyond those delivered.
 */
export function recognizeReturning(hashes: readonly string[], copies: readonly CollectedCopies[]): boolean[] {
  const owed = new Map(copies.map((c) => [c.contentHash, c.delivered - c.onServer]));
  return hashes.map((hash) => {
    const n = owed.get(hash) ?? 0;
    if (n <= 0) return false;
    owed.set(hash, n - 1);
    return true;
  });
}
