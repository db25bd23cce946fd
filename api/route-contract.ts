import { Hono, type Handler, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { PROMETHEUS_CONTENT_TYPE } from '../core/prometheus-text';
import { tokenOf } from './auth';
import { ApiError } from './http-errors';
import { errors } from './schemas/answers';
import { messagesRead, unscopedOnly } from './token-scope';

/*
 * A route's contract: what it takes, what it answers and who may call it, declared beside its
 * handler. The handler is registered through it (`handle`), the access rule becomes the route's
 * middleware, and api/openapi.ts assembles the document from the same contracts.
 */

/** The media type of an HTML answer, as Hono's c.html() sends it. */
export const HTML = 'text/html; charset=UTF-8';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Reply {
  description: string;
  /** the JSON body, an answer schema named in api/schemas/ (answers.ts's named); without it and `media`, no body */
  json?: z.ZodType;
  /** a raw body of this media type */
  media?: 'message/rfc822' | typeof PROMETHEUS_CONTENT_TYPE | typeof HTML;
  /** response headers: name → what it says */
  headers?: Record<string, string>;
}

/**
 * Who may call a route, beyond requireToken's rule for every route (GET any token, the rest an
 * admin token). Each refusal is a 403 with the message given here.
 */
export interface Access {
  /** no token at all: app.ts registers the route before requireToken */
  public?: true;
  /** an admin token even to read: the message for another token */
  admin?: string;
  /** a token not limited to some domains: the message for one that is (token-scope.ts's notLimited) */
  unscoped?: string;
  /** the messages:read right (message bodies) */
  messagesRead?: true;
}

/** One route: as the app registers it (path relative to its resource's mount) and as the OpenAPI document describes it. */
export interface RouteContract {
  method: Method;
  /** relative to the resource's mount, as Hono writes it: '/', '/:id/raw' */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  access?: Access;
  /** creates an object: takes an Idempotency-Key (api/idempotency.ts) */
  idempotent?: true;
  /** a PUT that creates what its path names when there is none: no 404 */
  upsert?: true;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** a JSON body: a schema named with requestBody */
  body?: z.ZodType;
  /**
   * what the route itself answers; the answers of the middleware (400, 401, 403, 404, 413, 429, 500) are added from the route's
   * shape. A token limited to some domains gets 404 for every other domain's object, as for a missing one: the 404 of a route
   * with path parameters.
   */
  responses: Record<number, Reply>;
}

export interface Tag {
  name: string;
  description: string;
}

/** The routes under one mount point, all with one tag in the document. */
export interface Resource<R extends Record<string, RouteContract> = Record<string, RouteContract>> {
  /** where app.ts mounts the resource's router ('' for routes registered with their full path) */
  mount: string;
  tag: Tag;
  /** the rule of every path under the mount, matched by a route or not: middleware of the whole router */
  access?: Access;
  routes: R;
}

export const resource = <R extends Record<string, RouteContract>>(spec: Resource<R>): Resource<R> => spec;

/** The request bodies, named: the document's request components. */
export const requestSchemas = z.registry<{ id: string }>();
export function requestBody<T extends z.ZodType>(id: string, schema: T): T {
  requestSchemas.add(schema, { id });
  return schema;
}

export const ok = (json: z.ZodType, description = 'OK'): Reply => ({ json, description });
export const created = (json: z.ZodType): Reply => ({ json, description: 'created' });
export const noContent = (description: string): Reply => ({ description });
export const conflict = (description: string): Reply => ({ json: errors.conflict, description });
export const rfc822 = (description: string): Reply => ({ media: 'message/rfc822', description });

const forbidden = (message: string): ApiError => new ApiError(403, { error: 'forbidden', message });

/** The middleware that enforces an access rule (public is app.ts's order, not a check). */
function accessGuards(access: Access | undefined): MiddlewareHandler[] {
  const guards: MiddlewareHandler[] = [];
  const { admin, unscoped } = access ?? {};
  if (admin) {
    guards.push(async (c, next) => {
      if (tokenOf(c.req.raw)?.scope !== 'admin') throw forbidden(admin);
      await next();
    });
  }
  if (unscoped) guards.push(unscopedOnly(unscoped));
  if (access?.messagesRead) guards.push(messagesRead);
  return guards;
}

/** A router for a resource: its access rule, if any, guards every path under the mount. */
export function routerOf(resource: Resource): Hono {
  const app = new Hono();
  const guards = accessGuards(resource.access);
  if (guards.length > 0) app.use('*', ...guards);
  return app;
}

/** Registers a handler under its contract, behind the contract's access rule. */
export function handle(app: Hono, route: RouteContract, handler: Handler): void {
  // Hono's typed overloads take a tuple of handlers; the guards are a list of any length
  const on = app.on.bind(app) as (method: string, path: string, ...handlers: (MiddlewareHandler | Handler)[]) => Hono;
  on(route.method.toUpperCase(), route.path, ...accessGuards(route.access), handler);
}

/** A route's path as the app serves it. */
export const fullPath = (resource: Resource, route: RouteContract): string =>
  route.path === '/' && resource.mount !== '' ? resource.mount : resource.mount + route.path;
