import type { BatchSummary, DeliveryBacklog, HeldSummary, ListSummary } from '../../activities';
import { emptyTally } from '../../core/tally';

/** Activity summaries as the account workflow receives them, for stub activities and bookkeeping tests. */

export const noBacklog = (): DeliveryBacklog => ({ backlog: 0, quarantined: 0, nextAttemptAt: null });

export const listed = (pending: number, more: Partial<ListSummary> = {}): ListSummary => ({
  tls: 'implicit',
  tlsWarning: null,
  onServer: pending,
  newOnServer: pending,
  pending,
  tooLarge: 0,
  skipped: 0,
  resyncedFolders: [],
  ...more,
});

export const batch = (more: Partial<BatchSummary> = {}): BatchSummary => ({
  ...emptyTally(),
  deliveryError: null,
  bytes: 0,
  remaining: 0,
  backlog: noBacklog(),
  ...more,
});

export const heldSummary = (more: Partial<HeldSummary> = {}): HeldSummary => ({
  ...emptyTally(),
  deliveryError: null,
  backlog: noBacklog(),
  ...more,
});
