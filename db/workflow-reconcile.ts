import type { Queryable } from './pool';

/** A workflow that has not reported this long after its next run was due is looked at. */
const OVERDUE = '1 hour';

/**
 * External accounts whose workflow may not be running, by id after `after`: those that never
 * reported a status (their workflow may never have started) and those whose report is long
 * overdue (it may have been terminated). One indexed pass; the caller asks Temporal about each.
 */
export async function accountsToReconcile(db: Queryable, after: string, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT e.id FROM external_accounts e
       LEFT JOIN account_status s ON s.external_account_id = e.id
      WHERE e.id > $1
        AND (s.external_account_id IS NULL
             OR COALESCE((s.status ->> 'nextRunAt')::timestamptz, s.updated_at + e.interval_seconds * interval '1 second')
                < now() - interval '${OVERDUE}')
      ORDER BY e.id
      LIMIT $2`,
    [after, limit],
  );
  return rows.map((r) => r.id);
}
