import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import * as res from './response-schemas';
import * as req from './schemas';
import * as wh from './webhook-schemas';
import {
  conflict,
  created,
  fullPath,
  noContent,
  ok,
  requestBody,
  requestSchemas,
  type Access,
  type Reply,
  type RouteContract,
} from './route-contract';
import { PROMETHEUS_CONTENT_TYPE } from '../core/prometheus-text';
import { RESOURCES } from './routes';

/** A route as the document sees it: its full path, its tag and the access rule of its resource and its own. */
interface RouteDoc extends Omit<RouteContract, 'access'> {
  tag: string;
  access?: 'public' | 'admin';
  needs?: 'unscoped' | 'messagesRead';
}

const prometheusText = (description: string): Reply => ({ media: PROMETHEUS_CONTENT_TYPE, description });
const id = req.idParam('id');

/** The access rule as the document names it. */
function accessOf(rule: Access): Pick<RouteDoc, 'access' | 'needs'> {
  return {
    ...(rule.public ? { access: 'public' as const } : rule.admin ? { access: 'admin' as const } : {}),
    ...(rule.unscoped ? { needs: 'unscoped' as const } : rule.messagesRead ? { needs: 'messagesRead' as const } : {}),
  };
}

const documented = (): RouteDoc[] =>
  RESOURCES.flatMap((resource) =>
    Object.values(resource.routes).map(({ access, ...route }) => ({
      ...route,
      path: fullPath(resource, route),
      tag: resource.tag.name,
      ...accessOf({ ...resource.access, ...access }),
    })),
  );

const LEGACY: RouteDoc[] = [
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'Service',
    summary: 'Whether the API and PostgreSQL answer',
    access: 'public',
    responses: { 200: ok(res.health) },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Service',
    summary: 'This document',
    description: 'Public, like the page at /api/docs that shows it: it describes the API and holds no data.',
    access: 'public',
    responses: { 200: ok(res.openApiDocument) },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Service',
    summary:
      'Prometheus metrics: messages, bytes and cycles by protocol and outcome, errors by kind, quarantine, backlog, accounts by state',
    description: 'A token not limited to some domains, or none with MAILPULL_METRICS_PUBLIC.',
    responses: { 200: prometheusText('the text exposition format') },
  },
  {
    method: 'get',
    path: '/api/me',
    operationId: 'me',
    tag: 'Service',
    summary: 'The token the request was made with: its id and rights',
    description: 'The admin page asks it to hide what the token may not do.',
    responses: { 200: ok(res.me) },
  },
  {
    method: 'get',
    path: '/api/ui-config',
    operationId: 'uiConfig',
    tag: 'Service',
    summary: "Where the Temporal Web UI is, for the admin page's links to each workflow",
    responses: { 200: ok(res.uiConfig) },
  },
  {
    method: 'get',
    path: '/api/providers',
    operationId: 'listProviders',
    tag: 'Service',
    summary: 'The provider presets an external account can start from ("provider" on create)',
    description:
      'Hosts, ports, TLS, auth method and OAuth2 scopes of Gmail, Microsoft 365, Yahoo, AOL, iCloud and GMX, and what mailpull does about their limits.',
    responses: { 200: ok(res.providerList) },
  },

  {
    method: 'get',
    path: '/api/audit',
    operationId: 'listAudit',
    tag: 'Audit',
    summary: 'Every successful change made through the API, newest first',
    description: 'The log names objects of every domain.',
    access: 'admin',
    needs: 'unscoped',
    query: req.listQuery,
    responses: { 200: ok(res.auditPage) },
  },

  {
    method: 'get',
    path: '/api/webhooks',
    operationId: 'listWebhooks',
    tag: 'Webhooks',
    summary: 'The registered webhooks',
    description: 'Webhooks see every domain: an admin token not limited to some domains, even to read.',
    access: 'admin',
    needs: 'unscoped',
    responses: { 200: ok(wh.webhookList) },
  },
  {
    method: 'post',
    path: '/api/webhooks',
    operationId: 'createWebhook',
    idempotent: true,
    tag: 'Webhooks',
    summary: 'Register a URL for account events',
    description:
      'The answer shows the signing secret, the only time it is shown. A URL whose host resolves to an address the network policy refuses (MAILPULL_ALLOWED_NETWORKS) answers 400 naming url; a name that does not resolve yet is accepted and checked at each delivery.',
    access: 'admin',
    needs: 'unscoped',
    body: requestBody('CreateWebhook', wh.createWebhook),
    responses: { 201: created(wh.createdWebhook), 409: conflict('there are 50 webhooks already') },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id',
    operationId: 'getWebhook',
    tag: 'Webhooks',
    summary: 'One webhook',
    access: 'admin',
    needs: 'unscoped',
    params: id,
    responses: { 200: ok(wh.webhook) },
  },
  {
    method: 'patch',
    path: '/api/webhooks/:id',
    operationId: 'updateWebhook',
    tag: 'Webhooks',
    summary: 'Change, enable or disable a webhook, or replace its secret',
    description:
      'A new URL is checked against the network policy as at creation. Deliveries on their way are sent to the new URL; those of a disabled webhook fail.',
    access: 'admin',
    needs: 'unscoped',
    params: id,
    body: requestBody('UpdateWebhook', wh.updateWebhook),
    responses: { 200: ok(wh.updatedWebhook) },
  },
  {
    method: 'delete',
    path: '/api/webhooks/:id',
    operationId: 'deleteWebhook',
    tag: 'Webhooks',
    summary: 'Delete a webhook and its deliveries',
    access: 'admin',
    needs: 'unscoped',
    params: id,
    responses: { 204: noContent('deleted') },
  },
  {
    method: 'get',
    path: '/api/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    tag: 'Webhooks',
    summary: "A webhook's deliveries and how each went, newest first",
    access: 'admin',
    needs: 'unscoped',
    params: id,
    query: wh.deliveriesQuery,
    responses: { 200: ok(wh.webhookDeliveryList) },
  },
];

const TAGS = [
  { name: 'Service', description: 'Health and this description; no token needed' },
  { name: 'Domains', description: 'Local mail domains' },
  { name: 'Accounts', description: 'Local mailboxes and their built-in store' },
  { name: 'External accounts', description: 'Remote POP3/IMAP mailboxes, each collected by its own workflow' },
  { name: 'Delivery targets', description: 'LMTP, SMTP or IMAP servers mail is delivered into' },
  { name: 'Quarantine', description: 'Messages a delivery target refused' },
  { name: 'Audit', description: 'Who changed what' },
  { name: 'Webhooks', description: 'URLs that receive account events, signed with HMAC-SHA256' },
];

type JsonSchema = Record<string, unknown>;

const COMPONENT = '#/components/schemas/';

/** Component schemas of one registry, without the per-schema `$schema` and `$id` zod adds. */
function components(registry: z.core.$ZodRegistry<{ id: string }>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(registry, { io, uri: (name) => COMPONENT + name });
  if ('__shared' in schemas) throw new Error('openapi: a schema would need a shared definition; register it with an id');
  return Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => {
      const component: JsonSchema = { ...schema };
      delete component.$schema;
      delete component.$id;
      return [name, component];
    }),
  );
}

function refTo(registry: z.core.$ZodRegistry<{ id: string }>, schema: z.ZodType, what: string): JsonSchema {
  const name = registry.get(schema)?.id;
  if (!name) throw new Error(`openapi: ${what} is not a named schema`);
  return { $ref: COMPONENT + name };
}

function parameters(schema: z.ZodObject, where: 'path' | 'query'): JsonSchema[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const openApiPath = (honoPath: string): string =>
  honoPath
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment))
    .join('/');

const needsAdmin = (route: RouteDoc): boolean => route.access === 'admin' || (route.access !== 'public' && route.method !== 'get');

/** The tokens the route refuses with 403. */
const refusedTokens = (route: RouteDoc): string[] => [
  ...(needsAdmin(route) ? ['a read-only token'] : []),
  ...(route.needs === 'unscoped' ? ['a token limited to some domains'] : []),
  ...(route.needs === 'messagesRead' ? ['a token without messages:read'] : []),
];

function whoMay(route: RouteDoc): string {
  if (route.access === 'public') return 'No token needed.';
  const right = route.needs === 'unscoped' ? ' not limited to some domains' : route.needs === 'messagesRead' ? ' with messages:read' : '';
  return needsAdmin(route) ? `Needs an admin token${right}.` : `Any token${right}.`;
}

/** The answers every route of this shape can get from the middleware and the error handler. */
function standardReplies(route: RouteDoc): Record<number, Reply> {
  const replies: Record<number, Reply> = {};
  const error = (json: z.ZodType, description: string, headers?: Record<string, string>): Reply => ({ json, description, headers });
  if (route.params || route.query || route.body) replies[400] = error(res.errors.invalidRequest, 'a parameter or the body is invalid');
  if (route.access !== 'public') {
    replies[401] = error(res.errors.unauthorized, 'no valid token', { 'WWW-Authenticate': 'Bearer realm="mailpull"' });
  }
  const refused = refusedTokens(route);
  if (refused.length > 0) replies[403] = error(res.errors.forbidden, refused.join(', or '));
  if (route.params) replies[404] = error(res.errors.notFound, "no such object, or one outside the token's domains");
  // the body limit applies to /api/*; a GET has no body
  if (route.method !== 'get' && route.path.startsWith('/api/')) replies[413] = error(res.errors.payloadTooLarge, 'the body is too large');
  if (route.idempotent) {
    replies[409] = error(res.errors.conflict, 'the first request with this Idempotency-Key is still being answered');
    replies[422] = error(res.errors.idempotencyKeyReused, 'this Idempotency-Key came with another request');
  }
  if (route.access !== 'public') {
    replies[429] = error(
      res.errors.rateLimited,
      'too many requests with this token, or too many failed authentications from this address',
      {
        'Retry-After': 'seconds until the next request may go',
      },
    );
  }
  if (route.path !== '/api/openapi.json') replies[500] = error(res.errors.internal, 'an unexpected failure');
  return replies;
}

function response(reply: Reply, what: string): JsonSchema {
  const content = reply.json
    ? { 'application/json': { schema: refTo(res.responseSchemas, reply.json, what) } }
    : reply.media && { [reply.media]: { schema: { type: 'string', contentMediaType: reply.media } } };
  const headers =
    reply.headers &&
    Object.fromEntries(Object.entries(reply.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
  return { description: reply.description, ...(content ? { content } : {}), ...(headers ? { headers } : {}) };
}

const IDEMPOTENCY_PARAMETER: JsonSchema = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Any 1 to 255 visible ASCII characters, e.g. a UUID, new for each object to create. The same request sent again with the same key within 24 hours gets the first 2xx answer again (with the header Idempotent-Replayed: true) and creates nothing; with another method, path or body it is 422. An answer other than 2xx is not kept.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};

function operation(route: RouteDoc): JsonSchema {
  const standard = standardReplies(route);
  const replies = { ...standard, ...route.responses };
  // a route's own conflict and the key's both answer 409
  const own409 = route.responses[409];
  if (route.idempotent && own409) replies[409] = { ...own409, description: `${own409.description}, or ${standard[409].description}` };
  const responses = Object.fromEntries(
    Object.entries(replies).map(([status, reply]) => [status, response(reply, `the ${status} answer of ${route.operationId}`)]),
  );
  const parameterList = [
    ...(route.params ? parameters(route.params, 'path') : []),
    ...(route.query ? parameters(route.query, 'query') : []),
    ...(route.idempotent ? [IDEMPOTENCY_PARAMETER] : []),
  ];
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: [route.description, whoMay(route)].filter(Boolean).join(' '),
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(parameterList.length ? { parameters: parameterList } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: refTo(requestSchemas, route.body, `the body of ${route.operationId}`) } },
          },
        }
      : {}),
    responses,
  };
}

const packageVersion = (): string =>
  (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The OpenAPI 3.1 document of the API, generated from the routes' contracts and the zod schemas. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of [...LEGACY, ...documented()]) {
    const entry = (paths[openApiPath(route.path)] ??= {});
    if (entry[route.method]) throw new Error(`openapi: ${route.method.toUpperCase()} ${route.path} is described twice`);
    entry[route.method] = operation(route);
  }
  const requests = components(requestSchemas, 'input');
  const responses = components(res.responseSchemas, 'output');
  const clash = Object.keys(requests).find((name) => name in responses);
  if (clash) throw new Error(`openapi: ${clash} names both a request and a response schema`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'mailpull',
      version: packageVersion(),
      description:
        'Collects mail from remote POP3/IMAP mailboxes into local accounts. Every route but /health, this document and its page at /api/docs needs `Authorization: Bearer <token>` (create one with `scripts/mailpull.sh tokens create --name NAME [--read-only] [--messages-read] [--domain NAME]...`); a read-only token may only read, and message bodies need messages:read (admin tokens have it). A token limited to some local domains sees only their objects: lists leave the rest out, and any other object answers as a missing one does (404 by id, 400 when a body names it); creating a domain, changing delivery targets, the audit log and webhooks need a token not limited (403). Errors are JSON: `{error, message, field?, issues?}`; a method a path does not have answers 405 with `Allow`.',
    },
    tags: TAGS,
    security: [{ bearerToken: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'an API token: admin, or read (GET only); with or without messages:read; for every domain, or limited to some',
        },
      },
      schemas: { ...requests, ...responses },
    },
  };
}
