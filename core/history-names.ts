import type { ListSummary } from './account-status';

/*
 * Activity results under the names older workflow histories recorded: a replay must read them as
 * the code that wrote them did, so each renamed field is read through one of these.
 */

/** The messages held for a delivery target: `pending` in older summaries, `heldPending` in older schedules. */
export const backlogIn = (b: { backlog?: number; pending?: number; heldPending?: number }): number =>
  b.backlog ?? b.pending ?? b.heldPending ?? 0;

/** The messages a listing found to download: `pending` in older summaries. */
export const toDownloadIn = (listed: Omit<ListSummary, 'toDownload'> & { toDownload?: number; pending?: number }): number =>
  listed.toDownload ?? listed.pending ?? 0;

/** A schedule's activeness (active, inactive, gone): `state` in older schedules. */
export function withActiveness<T extends { activeness: string }>(recorded: T): T {
  const older = recorded as T & { state?: T['activeness'] };
  return older.activeness === undefined && older.state !== undefined ? { ...recorded, activeness: older.state } : recorded;
}
