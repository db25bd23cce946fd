import type { MiddlewareHandler } from 'hono';
import { findActiveApiToken, touchApiToken, type TokenRights } from '../db/api-tokens';
import type { RateLimiter } from '../core/rate-limit';
import type { Pool } from '../db/pool';
import { parseApiToken, secretMatches } from '../secrets/api-token';
import { ApiError } from './http-errors';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** The token a request was made with and what it may do. */
export interface RequestToken extends TokenRights {
  id: string;
}

const tokens = new WeakMap<Request, RequestToken>();

/** The token a request was made with, once it passed requireToken. */
export const tokenOf = (request: Request): RequestToken | undefined => tokens.get(request);

const unauthorized = (message: string): ApiError =>
  new ApiError(401, { error: 'unauthorized', message }, { 'WWW-Authenticate': 'Bearer realm="mailpull"' });

/** Every request needs a bearer token; a read-only token may only read; each token has a request rate. */
export function requireToken(pool: Pool, limiter: RateLimiter): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw unauthorized('missing bearer token: send "Authorization: Bearer <token>" (create one with scripts/mailpull.sh tokens create)');
    }
    const parsed = /^Bearer\s+(\S+)$/i.exec(header);
    const token = parsed ? parseApiToken(parsed[1]) : null;
    // before the database is asked: a flood with one token costs nothing
    const rate = token ? limiter.take(token.id, Date.now()) : null;
    if (rate && !rate.allowed) {
      throw new ApiError(
        429,
        { error: 'rate_limited', message: `too many requests with this token; try again in ${rate.retryAfterSeconds} s` },
        { 'Retry-After': String(rate.retryAfterSeconds) },
      );
    }
    const stored = token ? await findActiveApiToken(pool, token.id) : null;
    if (!token || !stored || !secretMatches(token.secret, stored.secretHash)) throw unauthorized('invalid or revoked token');
    if (stored.scope === 'read' && !READ_METHODS.has(c.req.method)) {
      throw new ApiError(403, { error: 'forbidden', message: `this token is read-only; ${c.req.method} needs an admin token` });
    }
    await touchApiToken(pool, token.id);
    tokens.set(c.req.raw, { id: token.id, scope: stored.scope, domainIds: stored.domainIds, messagesRead: stored.messagesRead });
    await next();
  };
}
