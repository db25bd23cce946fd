import { z } from 'zod';
import { TLS_MODES } from '../../core/tls-decision';

/**
 * What the API answers, as zod schemas: each resource's file here names its answers with `named`,
 * under their component names; the OpenAPI document (api/openapi.ts) is generated from them, and
 * test/openapi.test.ts checks real answers against that document and these schemas against the
 * types the routes return. This file holds what every resource shares: the error bodies.
 */
export const responseSchemas = z.registry<{ id: string }>();

export function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  const described = description ? schema.describe(description) : schema;
  responseSchemas.add(described, { id });
  return described;
}

export const timestamp = named('Timestamp', z.iso.datetime(), 'an instant in UTC, ISO 8601');
export const answerUuid = z.uuid();
export const count = z.number().int().min(0);
export const tlsMode = z.enum(TLS_MODES);

/** `{error, message, field?, issues?}` with the codes one status can carry. */
const errorBody = (id: string, codes: [string, ...string[]], description: string) =>
  named(
    id,
    z.object({
      error: z.enum(codes),
      message: z.string(),
      field: z.string().optional().meta({ description: 'the request field at fault: a dotted path into the body, a parameter, or "body"' }),
      issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
    description,
  );

export const errors = {
  invalidRequest: errorBody('InvalidRequest', ['invalid_request'], 'a parameter or the body is invalid; `field` names it'),
  unauthorized: errorBody('Unauthorized', ['unauthorized'], 'no bearer token, or an invalid or revoked one'),
  forbidden: errorBody(
    'Forbidden',
    ['forbidden'],
    'the token may not do this: a change with a read-only token, a message body without messages:read, or what a token limited to some domains may not do',
  ),
  notFound: errorBody('NotFound', ['not_found'], 'no such object'),
  conflict: errorBody('Conflict', ['conflict'], 'the change conflicts with the stored state'),
  quarantineNotEmpty: errorBody('QuarantineNotEmpty', ['quarantine_not_empty'], 'the account still has quarantined messages'),
  payloadTooLarge: errorBody('PayloadTooLarge', ['payload_too_large'], 'the body is larger than MAILPULL_API_MAX_BODY_BYTES'),
  rateLimited: errorBody(
    'RateLimited',
    ['rate_limited'],
    'the token made more than MAILPULL_API_RATE_LIMIT requests a minute, or its address more than MAILPULL_API_AUTH_FAILURE_LIMIT failed authentications',
  ),
  idempotencyKeyReused: errorBody(
    'IdempotencyKeyReused',
    ['idempotency_key_reused'],
    'the Idempotency-Key came with another request (method, path or body) in the last 24 hours',
  ),
  internal: errorBody('Internal', ['internal'], 'an unexpected failure; the API log has the cause'),
  unavailable: errorBody('StatusUnavailable', ['not_running', 'status_unavailable'], 'no workflow, or no worker answered'),
};
