import type { BatchSummary, DeliveryBacklog, HeldSummary, ListSummary } from '../../core/account-status';
import { emptyTally } from '../../core/tally';
import type { Activeness } from '../../db/external-accounts';

/** Activity summaries as the account workflow receives them, for stub activities and bookkeeping tests. */

export const noBacklog = (): DeliveryBacklog => ({ backlog: 0, quarantined: 0, nextAttemptAt: null });

export const listed = (toDownload: number, more: Partial<ListSummary> = {}): ListSummary => ({
  tls: 'implicit',
  tlsWarning: null,
  onServer: toDownload,
  newOnServer: toDownload,
  toDownload,
  tooLarge: 0,
  skipped: 0,
  resyncedFolders: [],
  folderWarning: null,
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

type Schedule = Activeness & { backlog: number };

/** loadSchedule's answer: active, hourly, no push, nothing held, unless `more` says otherwise; no labels (see Activeness). */
export const schedule = (more: Partial<{ intervalSeconds: number; push: boolean; backlog: number }> = {}): Schedule => ({
  activeness: 'active',
  intervalSeconds: 3600,
  push: false,
  backlog: 0,
  ...more,
});

export const inactiveSchedule = (reason: string, intervalSeconds: number): Schedule => ({
  activeness: 'inactive',
  cause: 'disabled',
  reason,
  intervalSeconds,
  backlog: 0,
});
