import { listAudit } from '../../db/audit-log';
import type { Pool } from '../../db/pool';
import { parse } from '../http-errors';
import * as res from '../schemas/audit';
import { handle, ok, resource, routerOf } from '../route-contract';
import { listQuery } from '../schemas/fields';

// the log names objects of every domain
const AUDIT_NEEDS = 'the audit log needs an admin token that is not limited to some domains';

export const audit = resource({
  mount: '/api/audit',
  tag: { name: 'Audit', description: 'Who changed what' },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listAudit',
      summary: 'Every successful change made through the API, newest first',
      description: 'The log names objects of every domain.',
      access: { admin: AUDIT_NEEDS, unscoped: AUDIT_NEEDS },
      query: listQuery,
      responses: { 200: ok(res.auditPage) },
    },
  },
});

/** GET /api/audit: the audit log, newest first; admin tokens only. */
export function auditRoutes(pool: Pool) {
  const app = routerOf(audit);
  handle(app, audit.routes.list, async (c) => {
    const page = parse(listQuery, c.req.query());
    return c.json({ ...(await listAudit(pool, page)), limit: page.limit, offset: page.offset });
  });
  return app;
}
