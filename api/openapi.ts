import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { responseSchemas } from './schemas/answers';
import { COMPONENT, operation, type DocumentedRoute, type JsonSchema } from './openapi-operation';
import { fullPath, requestSchemas } from './route-contract';
import { RESOURCES } from './routes';

/** Every route with its full path, its tag and its resource's access rule merged into its own. */
const documented = (): DocumentedRoute[] =>
  RESOURCES.flatMap((resource) =>
    Object.values(resource.routes).map((route) => ({
      ...route,
      path: fullPath(resource, route),
      tag: resource.tag.name,
      access: { ...resource.access, ...route.access },
    })),
  );

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

const openApiPath = (honoPath: string): string =>
  honoPath
    .split('/')
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment))
    .join('/');

const packageVersion = (): string =>
  (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The OpenAPI 3.1 document of the API, generated from the routes' contracts and the zod schemas. */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of documented()) {
    const entry = (paths[openApiPath(route.path)] ??= {});
    if (entry[route.method]) throw new Error(`openapi: ${route.method.toUpperCase()} ${route.path} is described twice`);
    entry[route.method] = operation(route);
  }
  const requests = components(requestSchemas, 'input');
  const responses = components(responseSchemas, 'output');
  const clash = Object.keys(requests).find((name) => name in responses);
  if (clash) throw new Error(`openapi: ${clash} names both a request and a response schema`);
  return {
    openapi: '3.1.0',
    info: {
      title: 'mailpull',
      version: packageVersion(),
      description:
        'Collects mail from remote POP3/IMAP mailboxes into local accounts. Every route but /health, this document, its page at /api/docs and /oauth/callback (where a provider sends the browser back) needs `Authorization: Bearer <token>` (create one with `scripts/mailpull.sh tokens create --name NAME [--read-only] [--messages-read] [--domain NAME]...`); a read-only token may only read, and message bodies need messages:read (admin tokens have it). A token limited to some local domains sees only their objects: lists leave the rest out, and any other object answers as a missing one does (404 by id, 400 when a body names it); creating a domain, changing delivery targets, the audit log and webhooks need a token not limited (403). Errors are JSON: `{error, message, field?, issues?}`; a method a path does not have answers 405 with `Allow`.',
    },
    tags: [...new Map(RESOURCES.map(({ tag }) => [tag.name, tag])).values()],
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
