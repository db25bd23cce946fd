import type { Context, MiddlewareHandler } from 'hono';
import { isInScope, type DomainScope, type ScopedKind } from '../db/domain-scope';
import type { Pool } from '../db/pool';
import { tokenOf } from './auth';
import { ApiError, notFound } from './http-errors';
import { idParam } from './schemas/fields';
import { heldIdParam } from './schemas/quarantine';

/*
 * What a token limited to some local domains may see and do. Every route goes through these:
 * lists filter with domainsOf (db/domain-scope.ts), routes under /:id use ownedById, ids named in
 * a body use inScope, and the few things outside any domain use unscopedOnly.
 */

/** The names the routes' own 404s use, so an object out of scope answers exactly as a missing one. */
const NAMES: Record<ScopedKind, string> = {
  domain: 'domain',
  account: 'account',
  externalAccount: 'external account',
  heldMessage: 'quarantined message',
  deliveryTarget: 'delivery target',
};

/** The local domains the request's token is limited to; null: every domain. */
export function domainsOf(c: Context): DomainScope {
  const token = tokenOf(c.req.raw);
  // requireToken runs before every /api route: without a token this is a wiring mistake, not "every domain"
  if (!token) throw new Error(`no API token on ${c.req.method} ${c.req.path}`);
  return token.domainIds;
}

/** Whether an id given in a body or query names an object the token sees (and that exists). */
export const inScope = (pool: Pool, c: Context, kind: ScopedKind, id: string): Promise<boolean> => isInScope(pool, kind, id, domainsOf(c));

/**
 * For every route under /:id: to a token limited to some domains, an object outside them, or
 * a missing one, answers 404 before anything else is looked at, so both answer alike whatever the
 * body. A malformed id is left to the route's 400.
 */
export function ownedById(pool: Pool, kind: ScopedKind): MiddlewareHandler {
  const param = kind === 'heldMessage' ? heldIdParam : idParam('id');
  return async (c, next) => {
    const domains = domainsOf(c);
    const parsed = param.safeParse(c.req.param());
    if (domains !== null && parsed.success && !(await isInScope(pool, kind, parsed.data.id, domains))) {
      throw notFound(NAMES[kind], parsed.data.id);
    }
    await next();
  };
}

/** The 403 message for a token limited to some domains: "<what> needs a token that is not limited to some domains". */
export const notLimited = (what: string): string => `${what} needs a token that is not limited to some domains`;

/** What belongs to no single domain (creating a domain, shared delivery targets): not for a token limited to some. */
export function unscopedOnly(message: string): MiddlewareHandler {
  return async (c, next) => {
    if (domainsOf(c) !== null) throw new ApiError(403, { error: 'forbidden', message });
    await next();
  };
}

/** Message bodies (raw messages, quarantine downloads) need the messages:read right. */
export const messagesRead: MiddlewareHandler = async (c, next) => {
  if (!tokenOf(c.req.raw)?.messagesRead) {
    throw new ApiError(403, {
      error: 'forbidden',
      message: 'reading message bodies needs a token with messages:read (mailpull tokens create --messages-read)',
    });
  }
  await next();
};
