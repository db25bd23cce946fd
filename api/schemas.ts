import { z } from 'zod';
import { ACCOUNT_STATES } from '../core/account-state';
import { MAX_STORED_MESSAGE_BYTES } from '../core/config';
import { PROVIDER_NAMES } from '../core/providers';
import { DEFAULT_RECIPIENT_HEADERS } from '../core/recipients';
import { isAddress, isDomainName, isHost } from './text-checks';

/*
 * Every string is bounded first: a longer one fails at once (abort), before trimming, patterns or
 * refinements look at it. Patterns are single character classes or literals, which run in linear
 * time; what needs more is a function of text-checks.ts, and the document keeps the equivalent
 * pattern for clients (test/unit/text-checks.test.ts compares them). No string holds NUL:
 * PostgreSQL's text cannot store it, and a query with one fails in the database, not in the check.
 */
const text = (max: number) =>
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
const MAX_OFFSET = 1_000_000_000;

export const idParam = (name: string) => z.object({ [name]: z.uuid({ message: 'must be a UUID' }) });

export const DOMAIN_NAME_PATTERN = '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z0-9-]{2,63}$';
export const ADDRESS_PATTERN = '^[^\\s@<>()",;:\\\\[\\]]+@[^\\s@<>()",;:\\\\[\\]]+\\.[^\\s@<>()",;:\\\\[\\]]+$';
export const HOST_PATTERN =
  '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$|^[0-9a-fA-F:.]+$';

// Labels of a domain name: letters, digits, hyphens; at least one dot.
const domainName = text(253)
  .trim()
  .min(3)
  .refine(isDomainName, 'must be a domain name like example.com')
  .meta({ pattern: DOMAIN_NAME_PATTERN });

const uuid = z.uuid({ message: 'must be a UUID' });

/** null: the built-in store */
const deliveryTargetId = uuid.nullable();

export const createDomain = z.strictObject({
  name: domainName,
  enabled: z.boolean().default(true),
  deliveryTargetId: deliveryTargetId.default(null),
});
export const updateDomain = z.strictObject({ enabled: z.boolean(), deliveryTargetId }).partial();

const address = text(320).trim().refine(isAddress, 'must be an e-mail address like user@example.com').meta({ pattern: ADDRESS_PATTERN });

export const createAccount = z.strictObject({ address, enabled: z.boolean().default(true) });
export const updateAccount = z.strictObject({ enabled: z.boolean() });
export const accountListQuery = z.object({ domainId: uuid.optional() });
export const messageParams = z.object({ id: uuid, messageId: text(18).regex(/^\d{1,18}$/, 'must be a message id') });

export const listQuery = z.object({
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, MAX_OFFSET, 0),
  folder: text(1000).min(1).optional(),
});

// CR, LF and NUL would let a value inject protocol commands.
const protocolSafe = (max: number) =>
  text(max)
    .min(1)
    .regex(/^[^\r\n\0]+$/, 'must not contain line breaks or NUL');

const host = text(253).trim().min(1).refine(isHost, 'must be a host name or IP address').meta({ pattern: HOST_PATTERN });

export const deletePolicy = z.union([
  z.literal('never'),
  z.literal('immediately'),
  z.strictObject({ afterDays: z.number().int().min(0).max(36500) }),
]);

const mimeRecipients = z.strictObject({
  enabled: z.boolean(),
  headers: z
    .array(text(76).regex(/^[!-9;-~]{1,76}$/, 'must be a header field name'))
    .min(1)
    .max(20)
    .default([...DEFAULT_RECIPIENT_HEADERS]),
  /** also local accounts of other local domains than the owner's */
  allDomains: z.boolean().default(false),
});

const folderName = protocolSafe(1000);

const folders = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('inbox') }),
  z.strictObject({ mode: z.literal('list'), names: z.array(folderName).min(1).max(200) }),
  z.strictObject({ mode: z.literal('all'), exclude: z.array(folderName).max(200).default([]) }),
]);

const tlsCa = text(64 * 1024)
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

const tokenEndpoint = text(2000)
  .superRefine((value, ctx) => {
    const problem = tokenEndpointProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ format: 'uri' });

const oauthFields = {
  provider: z.enum(['google', 'microsoft', 'custom']),
  tokenEndpoint,
  clientId: protocolSafe(500),
  clientSecret: protocolSafe(2000).nullable(),
  refreshToken: protocolSafe(8000),
  scope: protocolSafe(2000).nullable(),
};

/** On create, provider and client id are required; the endpoint and scope default from the provider's preset. */
const oauth = z.strictObject({
  ...oauthFields,
  tokenEndpoint: oauthFields.tokenEndpoint.optional(),
  clientSecret: oauthFields.clientSecret.optional(),
  refreshToken: oauthFields.refreshToken.optional(),
  scope: oauthFields.scope.optional(),
});

export type OAuthInput = Partial<z.infer<typeof oauth>>;

const externalAccountFields = {
  ownerAccountId: z.uuid({ message: 'must be a UUID' }),
  name: text(200).trim().min(1),
  enabled: z.boolean(),
  protocol: z.enum(['pop3', 'imap']),
  host,
  port: z.number().int().min(1).max(65535),
  tlsMode: z.enum(['detect', 'starttls', 'direct', 'disabled']),
  tlsCa,
  allowInvalidCertificates: z.boolean(),
  authMethod: z.enum(['password', 'apop', 'xoauth2']),
  folders,
  mirrorFolders: z.boolean(),
  push: z.boolean(),
  receiveTime: z.enum(['download', 'receivedHeader']),
  forwardToAccountId: z.uuid({ message: 'must be a UUID' }).nullable(),
  username: protocolSafe(320),
  password: protocolSafe(1024),
  oauth,
  intervalMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
  /** the account's own size limit in bytes; null: the global MAILPULL_MAX_MESSAGE_BYTES */
  maxMessageBytes: z.number().int().min(1024).max(MAX_STORED_MESSAGE_BYTES).nullable(),
  deletePolicy,
  mimeRecipients,
  /** null: the recipients' domains decide; "store": the built-in store; else a delivery target id */
  deliveryTarget: z.union([z.literal('store'), uuid], { message: 'must be "store", a delivery target id, or null' }).nullable(),
};

export const createExternalAccount = z.strictObject({
  ...externalAccountFields,
  provider: z.enum(PROVIDER_NAMES).optional().meta({
    description:
      'a provider preset (GET /api/providers): fills host, port, tlsMode, authMethod, oauth.provider and, for folders mode "all", the folders left out; fields given win',
  }),
  enabled: externalAccountFields.enabled.default(true),
  protocol: externalAccountFields.protocol.default('pop3'),
  port: externalAccountFields.port.optional(),
  tlsMode: externalAccountFields.tlsMode.default('detect'),
  tlsCa: externalAccountFields.tlsCa.default(null),
  intervalMinutes: externalAccountFields.intervalMinutes.default(30),
  maxMessageBytes: externalAccountFields.maxMessageBytes.default(null),
  deletePolicy: deletePolicy.default('never'),
  mimeRecipients: mimeRecipients.default({ enabled: false, headers: [...DEFAULT_RECIPIENT_HEADERS], allDomains: false }),
  allowInvalidCertificates: externalAccountFields.allowInvalidCertificates.default(false),
  authMethod: externalAccountFields.authMethod.default('password'),
  folders: folders.default({ mode: 'inbox' }),
  mirrorFolders: externalAccountFields.mirrorFolders.default(false),
  push: externalAccountFields.push.default(false),
  receiveTime: externalAccountFields.receiveTime.default('download'),
  forwardToAccountId: externalAccountFields.forwardToAccountId.default(null),
  password: externalAccountFields.password.optional(),
  oauth: externalAccountFields.oauth.optional(),
  deliveryTarget: externalAccountFields.deliveryTarget.default(null),
});

export const setRefreshToken = z.strictObject({ refreshToken: oauthFields.refreshToken });

/** A local account's own mailbox behind an IMAP target with imapLogin "oauth": the login and a new grant. */
export const setAppendLogin = z.strictObject({
  deliveryTargetId: uuid,
  username: protocolSafe(320),
  oauth: z.strictObject({
    ...oauthFields,
    tokenEndpoint: oauthFields.tokenEndpoint.optional(),
    clientSecret: oauthFields.clientSecret.optional(),
    scope: oauthFields.scope.optional(),
  }),
});

export const resetIndex = z.strictObject({ force: z.boolean().default(false) });

export const deleteExternalAccountQuery = z.object({
  discardQuarantine: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});

/** Options that only one protocol has: the field that is wrong for the account's protocol, if any. */
export function protocolMismatch(account: {
  protocol: 'pop3' | 'imap';
  authMethod: 'password' | 'apop' | 'xoauth2';
  folders: { mode: string };
  mirrorFolders: boolean;
  push: boolean;
  receiveTime: 'download' | 'receivedHeader';
}): { field: string; message: string } | null {
  if (account.protocol === 'imap') {
    if (account.authMethod === 'apop') return { field: 'authMethod', message: 'APOP exists only for POP3' };
    if (account.receiveTime !== 'download') {
      return { field: 'receiveTime', message: "IMAP keeps the server's INTERNALDATE; receivedHeader is a POP3 option" };
    }
    return null;
  }
  if (account.folders.mode !== 'inbox') return { field: 'folders', message: 'POP3 has only one folder; folders need IMAP' };
  if (account.mirrorFolders) return { field: 'mirrorFolders', message: 'POP3 has no folders to mirror; this needs IMAP' };
  if (account.push) return { field: 'push', message: 'push uses IMAP IDLE; POP3 accounts are collected on schedule' };
  return null;
}

export const updateExternalAccount = z
  .strictObject({ ...externalAccountFields, oauth: z.strictObject(oauthFields).partial() })
  .omit({ ownerAccountId: true, protocol: true })
  .partial();

export type CreateExternalAccount = z.infer<typeof createExternalAccount>;
export type UpdateExternalAccount = z.infer<typeof updateExternalAccount>;

const deliveryTargetFields = {
  name: text(200).trim().min(1),
  kind: z.enum(['lmtp', 'smtp', 'imap']),
  host: host.nullable(),
  port: z.number().int().min(1).max(65535).nullable(),
  socketPath: text(1000)
    .regex(/^\/[^\0\r\n]*$/, 'must be an absolute path to a unix socket')
    .nullable(),
  tlsMode: z.enum(['detect', 'starttls', 'direct', 'disabled']),
  tlsCa,
  allowInvalidCertificates: z.boolean(),
  username: protocolSafe(320).nullable(),
  password: protocolSafe(1024).nullable(),
  imapLogin: z.enum(['master', 'user', 'oauth']).nullable(),
  maxConnections: z.number().int().min(1).max(50),
};

export const createDeliveryTarget = z.strictObject({
  ...deliveryTargetFields,
  host: deliveryTargetFields.host.default(null),
  port: deliveryTargetFields.port.optional(),
  socketPath: deliveryTargetFields.socketPath.default(null),
  tlsMode: deliveryTargetFields.tlsMode.default('detect'),
  tlsCa: deliveryTargetFields.tlsCa.default(null),
  allowInvalidCertificates: deliveryTargetFields.allowInvalidCertificates.default(false),
  username: deliveryTargetFields.username.default(null),
  password: deliveryTargetFields.password.optional(),
  imapLogin: deliveryTargetFields.imapLogin.optional(),
  maxConnections: deliveryTargetFields.maxConnections.default(5),
});

export const updateDeliveryTarget = z.strictObject(deliveryTargetFields).omit({ kind: true }).partial();

/** What the schema alone cannot check about a target: the field that does not fit, if any. */
export function deliveryTargetProblem(t: {
  kind: 'lmtp' | 'smtp' | 'imap';
  host: string | null;
  socketPath: string | null;
  username: string | null;
  imapLogin: 'master' | 'user' | 'oauth' | null;
  passwordSet: boolean;
}): { field: string; message: string } | null {
  if (t.socketPath !== null && t.kind !== 'lmtp') return { field: 'socketPath', message: 'a unix socket is for LMTP only' };
  if ((t.host === null) === (t.socketPath === null)) {
    return { field: 'host', message: 'give either host (and port) or, for LMTP, socketPath' };
  }
  if (t.kind === 'imap' && t.imapLogin === 'oauth') {
    if (t.username !== null || t.passwordSet) {
      return {
        field: t.username !== null ? 'username' : 'password',
        message:
          'imapLogin "oauth" logs in as each recipient with its own APPEND login (PUT /api/accounts/{id}/append-login); the target has none',
      };
    }
  } else if (t.kind === 'imap') {
    if (!t.username) return { field: 'username', message: 'IMAP APPEND needs a login (a master user, or the mailbox user)' };
    if (!t.passwordSet) return { field: 'password', message: 'IMAP APPEND needs the password of its login' };
  } else if (t.imapLogin !== null) {
    return { field: 'imapLogin', message: 'only IMAP targets have an imapLogin' };
  }
  if (t.kind !== 'imap' && (t.username === null) !== !t.passwordSet) {
    return { field: t.username === null ? 'username' : 'password', message: 'SMTP AUTH needs both username and password' };
  }
  return null;
}

const heldId = text(18).regex(/^[1-9][0-9]{0,17}$/, 'must be a quarantine id (a positive number)');
export const heldIdParam = z.object({ id: heldId });

export const quarantineQuery = z.object({
  externalAccountId: uuid.optional(),
  state: z.enum(['quarantined', 'pending']).default('quarantined'),
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, MAX_OFFSET, 0),
});

export const externalAccountListQuery = z.object({
  ownerAccountId: uuid.optional(),
  state: z.enum([...ACCOUNT_STATES, 'new'], { message: `must be one of ${[...ACCOUNT_STATES, 'new'].join(', ')}` }).optional(),
  limit: queryInt(1, 1000, 500),
  /** nextCursor of the page before */
  cursor: text(2048).optional(),
});

/** An installation's OAuth app (PUT /api/oauth/apps/:provider). */
export const oauthProviderParam = z.object({ provider: oauthFields.provider });

export const saveOAuthApp = z.strictObject({
  clientId: oauthFields.clientId,
  /** omitted: the stored one is kept (while the client id and endpoints stay); null: a public client */
  clientSecret: oauthFields.clientSecret.optional(),
  /** Microsoft only: "common" (default), "organizations" or a tenant id */
  tenant: text(100)
    .regex(/^[A-Za-z0-9.-]+$/, 'must be a tenant id or domain, "common" or "organizations"')
    .optional(),
  /** custom only: the authorization server's issuer; its metadata names the endpoints */
  issuer: tokenEndpoint.optional(),
  /** what a sign-in asks for; default from the provider (custom: "openid offline_access") */
  scope: oauthFields.scope.optional(),
});

/** The new external account a sign-in creates: the fields of a create, without the secrets and the auth method. */
export const signInAccountFields = createExternalAccount.omit({ password: true, oauth: true, authMethod: true });

export const createSignIn = z.strictObject({
  provider: oauthFields.provider,
  /** browser: the admin page, back to /oauth/callback; loopback: the CLI's own redirect URI; device: RFC 8628 */
  flow: z.enum(['browser', 'loopback', 'device']).default('browser'),
  /** the token is for this external account (Reconnect) … */
  externalAccountId: uuid.optional(),
  /** … or for a new one, created with these fields once the provider has answered … */
  account: signInAccountFields.optional(),
  /** … or for this local account's own mailbox at the provider, where its mail is delivered */
  localAccountId: uuid.optional(),
  /** browser flow: the path on mailpull the browser returns to, with ?oauth=done|failed */
  returnTo: text(500).optional(),
  /** loopback flow: http://127.0.0.1:PORT/PATH, where the CLI waits for the provider's redirect */
  redirectUri: text(500).optional(),
});

/** The CLI hands on the provider's redirect to its loopback address. */
export const completeSignIn = z.strictObject({ callbackUrl: text(8000) });
