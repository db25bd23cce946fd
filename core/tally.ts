const KEYS = ['delivered', 'recognized', 'held', 'quarantined', 'failed'] as const;

/**
 * What happened to the messages a piece of work handled: a delivery group, a batch, a retry of
 * held messages, a run, an account's lifetime. One shape at every level, added up with addTally.
 */
export interface Tally {
  /** every recipient has it now (stored or accepted by its target), at least one of them newly */
  delivered: number;
  /** copies of messages delivered before (a UIDVALIDITY change, a reset index): not delivered again */
  recognized: number;
  /** a target answered "later" or could not be reached: held for a retry, still on the remote server */
  held: number;
  /** a target refused them for good, or they could not be processed: in quarantine */
  quarantined: number;
  /** could not be processed this time: tried again later, quarantined after a few attempts */
  failed: number;
}

export const emptyTally = (): Tally => ({ delivered: 0, recognized: 0, held: 0, quarantined: 0, failed: 0 });

/**
 * Adds `more` into `into`, for the counts `into` keeps (an account's lifetime counts keep fewer
 * than a run). A count `more` lacks adds nothing: summaries in older workflow histories have fewer.
 */
export function addTally<T extends Partial<Tally>>(into: T, more: Partial<Tally>): T {
  const counts = into as Partial<Tally>;
  for (const key of KEYS) if (counts[key] !== undefined) counts[key] += more[key] ?? 0;
  return into;
}

/** How many messages the work handled, whatever became of them. */
export const handledIn = (t: Tally): number => KEYS.reduce((sum, key) => sum + t[key], 0);
