import { z } from 'zod';
import { errors, responseSchemas } from './schemas/answers';
import { requestSchemas, type Access, type Reply, type RouteContract } from './route-contract';

// One route's entry in the OpenAPI document; api/openapi.ts assembles the document from them.

export type JsonSchema = Record<string, unknown>;

export const COMPONENT = '#/components/schemas/';

/** A route as the document sees it: its full path, its resource's tag, and its resource's access rule merged into its own. */
export interface DocumentedRoute extends RouteContract {
  tag: string;
  access: Access;
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

const needsAdmin = ({ access, method }: DocumentedRoute): boolean => !!access.admin || (!access.public && method !== 'get');

/** The tokens the route refuses with 403. */
const refusedTokens = (route: DocumentedRoute): string[] => [
  ...(needsAdmin(route) ? ['a read-only token'] : []),
  ...(route.access.unscoped ? ['a token limited to some domains'] : []),
  ...(route.access.messagesRead ? ['a token without messages:read'] : []),
];

function whoMay(route: DocumentedRoute): string {
  if (route.access.public) return 'No token needed.';
  const right = route.access.unscoped ? ' not limited to some domains' : route.access.messagesRead ? ' with messages:read' : '';
  return needsAdmin(route) ? `Needs an admin token${right}.` : `Any token${right}.`;
}

/** The answers every route of this shape can get from the middleware and the error handler. */
function standardReplies(route: DocumentedRoute): Record<number, Reply> {
  const replies: Record<number, Reply> = {};
  const error = (json: z.ZodType, description: string, headers?: Record<string, string>): Reply => ({ json, description, headers });
  if (route.params || route.query || route.body) replies[400] = error(errors.invalidRequest, 'a parameter or the body is invalid');
  if (!route.access.public) {
    replies[401] = error(errors.unauthorized, 'no valid token', { 'WWW-Authenticate': 'Bearer realm="mailpull"' });
  }
  const refused = refusedTokens(route);
  if (refused.length > 0) replies[403] = error(errors.forbidden, refused.join(', or '));
  if (route.params && !route.upsert) replies[404] = error(errors.notFound, "no such object, or one outside the token's domains");
  // the body limit applies to /api/*; a GET has no body
  if (route.method !== 'get' && route.path.startsWith('/api/')) replies[413] = error(errors.payloadTooLarge, 'the body is too large');
  if (route.idempotent) {
    replies[409] = error(errors.conflict, 'the first request with this Idempotency-Key is still being answered');
    replies[422] = error(errors.idempotencyKeyReused, 'this Idempotency-Key came with another request');
  }
  if (!route.access.public) {
    replies[429] = error(errors.rateLimited, 'too many requests with this token, or too many failed authentications from this address', {
      'Retry-After': 'seconds until the next request may go',
    });
  }
  if (route.path !== '/api/openapi.json') replies[500] = error(errors.internal, 'an unexpected failure');
  return replies;
}

function response(reply: Reply, what: string): JsonSchema {
  const content = reply.json
    ? { 'application/json': { schema: refTo(responseSchemas, reply.json, what) } }
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

/** A route's operation object: its own answers and those of the middleware its shape meets, its parameters and body. */
export function operation(route: DocumentedRoute): JsonSchema {
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
    ...(route.access.public ? { security: [] } : {}),
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
