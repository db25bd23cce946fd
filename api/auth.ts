import type { Context, MiddlewareHandler } from 'hono';
import { clientKey } from '../core/client-address';
import type { RateLimiter } from '../core/rate-limit';
import { findActiveApiToken, touchApiToken, type TokenRights } from '../db/api-tokens';
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

const rateLimited = (message: string, retryAfterSeconds: number): ApiError =>
  new ApiError(429, { error: 'rate_limited', message }, { 'Retry-After': String(retryAfterSeconds) });

/** The peer's address as the node server saw it (behind a reverse proxy: the proxy's). */
function peerAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

export interface AuthLimits {
  /** requests per authenticated token */
  perToken: RateLimiter;
  /** failed authentications per client address (an IPv6 /64) */
  failuresPerClient: RateLimiter;
}

/**
 * Every request needs a bearer token; a read-only token may only read. Only an authenticated
 * token's requests count against its rate, so neither invented ids nor a real id with a wrong
 * secret touch a real token's bucket, and only real tokens have buckets. Failed authentications
 * count against the client's address: past its limit its requests are answered 429 before the
 * database is asked. Each failure is logged with the address and the claimed id, never the secret.
 */
export function requireToken(pool: Pool, limits: AuthLimits, log: (line: string) => void): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (!header) {
      throw unauthorized('missing bearer token: send "Authorization: Bearer <token>" (create one with scripts/mailpull.sh tokens create)');
    }
    const address = peerAddress(c);
    const client = clientKey(address);
    // taken before the lookup, so concurrent attempts cannot pass the limit; given back on success
    const attempt = limits.failuresPerClient.take(client, Date.now());
    if (!attempt.allowed) {
      throw rateLimited(
        `too many failed authentications from this address; try again in ${attempt.retryAfterSeconds} s`,
        attempt.retryAfterSeconds,
      );
    }
    const parsed = /^Bearer\s+(\S+)$/i.exec(header);
    const token = parsed ? parseApiToken(parsed[1]) : null;
    const stored = token
      ? await findActiveApiToken(pool, token.id).catch((err: unknown) => {
          // no answer is no failed authentication
          limits.failuresPerClient.refund(client);
          throw err;
        })
      : null;
    if (!token || !stored || !secretMatches(token.secret, stored.secretHash)) {
      const reason = !token ? 'not a mailpull token' : !stored ? `no active token ${token.id}` : `wrong secret for token ${token.id}`;
      const left = limits.failuresPerClient.check(client, Date.now());
      log(
        `mailpull api: authentication failed from ${address}: ${reason}` +
          (left.allowed ? '' : `; further attempts from ${client} are refused for ${left.retryAfterSeconds} s`),
      );
      throw unauthorized('invalid or revoked token');
    }
    limits.failuresPerClient.refund(client);
    const rate = limits.perToken.take(token.id, Date.now());
    if (!rate.allowed) {
      throw rateLimited(`too many requests with this token; try again in ${rate.retryAfterSeconds} s`, rate.retryAfterSeconds);
    }
    if (stored.scope === 'read' && !READ_METHODS.has(c.req.method)) {
      throw new ApiError(403, { error: 'forbidden', message: `this token is read-only; ${c.req.method} needs an admin token` });
    }
    await touchApiToken(pool, token.id);
    tokens.set(c.req.raw, { id: token.id, scope: stored.scope, domainIds: stored.domainIds, messagesRead: stored.messagesRead });
    await next();
  };
}
