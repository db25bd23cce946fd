import { z } from 'zod';
import { isHost } from '../text-checks';

/*
 * Every string is bounded first: a longer one fails at once (abort), before trimming, patterns or
 * refinements look at it. Patterns are single character classes or literals, which run in linear
 * time; what needs more is a function of text-checks.ts, and the document keeps the equivalent
 * pattern for clients (test/unit/text-checks.test.ts compares them). No string holds NUL:
 * PostgreSQL's text cannot store it, and a query with one fails in the database, not in the check.
 */
export const text = (max: number) =>
  z
    .string()
    .max(max, { abort: true })
    .refine((s) => !s.includes('\0'), { message: 'must not contain NUL', abort: true });

/** A whole number in a query string: digits only, bounded first (Number() reads any run of spaces as 0). */
export const queryInt = (min: number, max: number, fallback: number) =>
  text(String(max).length)
    .regex(/^[0-9]+$/, 'must be a whole number')
    .default(String(fallback))
    .meta({ description: `a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Where a page starts: OFFSET beyond this many rows is no list a client pages through. */
export const MAX_OFFSET = 1_000_000_000;

export const idParam = (name: string) => z.object({ [name]: z.uuid({ message: 'must be a UUID' }) });

export const DOMAIN_NAME_PATTERN = '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z0-9-]{2,63}$';
export const ADDRESS_PATTERN = '^[^\\s@<>()",;:\\\\[\\]]+@[^\\s@<>()",;:\\\\[\\]]+\\.[^\\s@<>()",;:\\\\[\\]]+$';
export const HOST_PATTERN =
  '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$|^[0-9a-fA-F:.]+$';

export const uuid = z.uuid({ message: 'must be a UUID' });

export const listQuery = z.object({
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, MAX_OFFSET, 0),
  folder: text(1000).min(1).optional(),
});

// CR, LF and NUL would let a value inject protocol commands.
export const protocolSafe = (max: number) =>
  text(max)
    .min(1)
    .regex(/^[^\r\n\0]+$/, 'must not contain line breaks or NUL');

export const host = text(253).trim().min(1).refine(isHost, 'must be a host name or IP address').meta({ pattern: HOST_PATTERN });

export const tlsCa = text(64 * 1024)
  .regex(/-----BEGIN CERTIFICATE-----/, 'must be a PEM certificate')
  .nullable();

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a text cannot be a token endpoint; null if it can. It receives the refresh token and the client secret: TLS, except on loopback. */
export function tokenEndpointProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return null;
  return 'must be an https URL (plain http only on loopback)';
}

export const tokenEndpoint = text(2000)
  .superRefine((value, ctx) => {
    const problem = tokenEndpointProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ format: 'uri' });

export const oauthFields = {
  provider: z.enum(['google', 'microsoft', 'custom']),
  tokenEndpoint,
  clientId: protocolSafe(500),
  clientSecret: protocolSafe(2000).nullable(),
  refreshToken: protocolSafe(8000),
  scope: protocolSafe(2000).nullable(),
};
