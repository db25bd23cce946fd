/** Longest UID set in one command: far below Dovecot's 64 KB command line limit. */
export const MAX_UID_SET_CHARS = 8_000;

/**
 * IMAP UID sets for these UIDs, compressed to ranges ("1:5,7,9:12"), sorted, without duplicates,
 * and split so that no set is longer than `maxChars`. Invalid UIDs (not positive integers) are left out.
 */
export function uidSets(uids: Iterable<string | number>, maxChars = MAX_UID_SET_CHARS): string[] {
  const sorted = [...new Set([...uids].map(Number))].filter((n) => Number.isSafeInteger(n) && n > 0).sort((a, b) => a - b);
  const sets: string[] = [];
  let current = '';
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    const item = j > i ? `${sorted[i]}:${sorted[j]}` : String(sorted[i]);
    if (current.length > 0 && current.length + 1 + item.length > maxChars) {
      sets.push(current);
      current = '';
    }
    current = current.length > 0 ? `${current},${item}` : item;
    i = j + 1;
  }
  if (current.length > 0) sets.push(current);
  return sets;
}
