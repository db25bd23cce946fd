import type { MiddlewareHandler } from 'hono';
import type { Log } from '../core/log';
import { tokenOf } from './auth';

/**
 * One debug line per request: method, path (no query string), status, time and the token's id.
 * Never a header or a body: those carry tokens and passwords.
 */
export function logRequests(log: Log): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const ms = Math.round(performance.now() - started);
    log.debug({ method: c.req.method, path: c.req.path, status: c.res.status, ms, tokenId: tokenOf(c.req.raw)?.id }, 'request');
  };
}
