import type { MiddlewareHandler } from 'hono';
import { changedFieldNames } from '../core/audit-fields';
import { recordAudit } from '../db/audit-log';
import type { Pool } from '../db/pool';
import { tokenOf } from './auth';

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A path with its ids as placeholders: the kind of change, e.g. "/api/external-accounts/:id". */
function pattern(path: string): string {
  return path
    .split('/')
    .map((segment) => (/^[0-9a-f-]{36}$/i.test(segment) || /^\d{1,20}$/.test(segment) ? ':id' : segment))
    .join('/');
}

/**
 * Records every successful change made through the API: which token, what (method and path
 * pattern), the object (its path; for a create, the new object's), when, and the names of the
 * fields the request set. Values are never recorded, so no secret reaches the log.
 */
export function auditChanges(pool: Pool, log: (line: string) => void): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const token = tokenOf(c.req.raw);
    if (!CHANGES.has(c.req.method) || c.res.status >= 400 || !token) return;
    // the route parsed the body already; Hono keeps it
    const body: unknown = c.req.header('content-type')?.includes('json') ? await c.req.json().catch(() => null) : null;
    let object = c.req.path;
    if (c.req.method === 'POST' && c.res.status === 201) {
      const created = (await c.res
        .clone()
        .json()
        .catch(() => null)) as { id?: unknown } | null;
      if (typeof created?.id === 'string') object = `${c.req.path.replace(/\/$/, '')}/${created.id}`;
    }
    await recordAudit(pool, {
      tokenId: token.id,
      action: `${c.req.method} ${pattern(c.req.path)}`,
      object,
      fields: changedFieldNames(body),
      status: c.res.status,
    }).catch((err: Error) => log(`mailpull api: the audit log could not record ${c.req.method} ${c.req.path}: ${err.message}`));
  };
}
