/** A downloaded message, as far as recognising an earlier copy of it goes. */
export interface ContentCandidate {
  folder: string;
  uidvalidity: string;
  /** hash of the raw bytes */
  contentHash: string;
}

/** How many distinct remote messages with this content were stored, per folder and UIDVALIDITY. */
export interface StoredCopies {
  folder: string;
  uidvalidity: string;
  contentHash: string;
  count: number;
}

const key = (...parts: string[]): string => parts.join('\n');

/**
 * Which messages are copies of ones already delivered under an earlier UIDVALIDITY of the same
 * folder (the mailbox was recreated or migrated), so they must not be delivered again. Counting
 * keeps genuine duplicates: if the old generation held a message twice and the new one holds it
 * three times, exactly one of the three is delivered. `recognized` are copies in the current
 * generation that earlier batches already recognised.
 */
export function recognizeCopies(
  candidates: readonly ContentCandidate[],
  stored: readonly StoredCopies[],
  recognized: readonly StoredCopies[],
): boolean[] {
  const earlier = new Map<string, number>();
  const used = new Map<string, number>();
  for (const c of candidates) {
    const k = key(c.folder, c.uidvalidity, c.contentHash);
    if (earlier.has(k)) continue;
    earlier.set(
      k,
      stored
        .filter((s) => s.folder === c.folder && s.contentHash === c.contentHash && s.uidvalidity !== c.uidvalidity)
        .reduce((n, s) => n + s.count, 0),
    );
    used.set(
      k,
      recognized
        .filter((s) => s.folder === c.folder && s.uidvalidity === c.uidvalidity && s.contentHash === c.contentHash)
        .reduce((n, s) => n + s.count, 0),
    );
  }
  return candidates.map((c) => {
    const k = key(c.folder, c.uidvalidity, c.contentHash);
    const n = used.get(k) ?? 0;
    if (n >= (earlier.get(k) ?? 0)) return false;
    used.set(k, n + 1);
    return true;
  });
}
