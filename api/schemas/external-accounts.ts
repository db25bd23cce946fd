import { z } from 'zod';
import { ACCOUNT_STATES } from '../../core/account-state';
import { MAX_STORED_MESSAGE_BYTES } from '../../core/message-size';
import { PROVIDER_NAMES } from '../../core/providers';
import { DEFAULT_RECIPIENT_HEADERS } from '../../core/recipient-headers';
import { accountStatus, failure, runSummary } from './account-status';
import { count, named, timestamp, tlsMode, answerUuid } from './answers';
import { host, oauthFields, protocolSafe, queryInt, text, tlsCa, uuid } from './fields';

/** An OAuth2 grant as answers show it, secrets only as whether each is set (external accounts, APPEND logins). */
export const oauthGrantView = z.object({
  provider: z.enum(['google', 'microsoft', 'custom']),
  tokenEndpoint: z.string(),
  clientId: z.string(),
  scope: z.string().nullable(),
  clientSecretSet: z.boolean(),
  refreshTokenSet: z.boolean(),
  accessTokenExpiresAt: timestamp.nullable(),
});

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

export const externalAccountListQuery = z.object({
  ownerAccountId: uuid.optional(),
  state: z.enum([...ACCOUNT_STATES, 'new'], { message: `must be one of ${[...ACCOUNT_STATES, 'new'].join(', ')}` }).optional(),
  limit: queryInt(1, 1000, 500),
  /** nextCursor of the page before */
  cursor: text(2048).optional(),
});

export const externalAccount = named(
  'ExternalAccount',
  z.object({
    id: answerUuid,
    ownerAccountId: answerUuid,
    name: z.string(),
    enabled: z.boolean(),
    protocol: z.enum(['pop3', 'imap']),
    host: z.string(),
    port: z.number().int(),
    tlsMode,
    tlsCa: z.string().nullable(),
    allowInvalidCertificates: z.boolean(),
    authMethod: z.enum(['password', 'apop', 'xoauth2']),
    username: z.string(),
    passwordSet: z.boolean(),
    oauth: oauthGrantView.nullable().meta({ description: 'set exactly when authMethod is xoauth2; the secrets are never shown' }),
    reauthorizationReason: z.string().nullable(),
    folders: z.discriminatedUnion('mode', [
      z.object({ mode: z.literal('inbox') }),
      z.object({ mode: z.literal('list'), names: z.array(z.string()) }),
      z.object({ mode: z.literal('all'), exclude: z.array(z.string()) }),
    ]),
    mirrorFolders: z.boolean(),
    push: z.boolean(),
    receiveTime: z.enum(['download', 'receivedHeader']),
    forwardToAccountId: answerUuid.nullable(),
    intervalMinutes: z.number().int(),
    maxMessageBytes: z.number().int().nullable(),
    deletePolicy: z.union([z.literal('never'), z.literal('immediately'), z.object({ afterDays: count })]),
    mimeRecipients: z.object({ enabled: z.boolean(), headers: z.array(z.string()), allDomains: z.boolean() }),
    deliveryTarget: z.union([z.literal('store'), answerUuid]).nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);

export const createdExternalAccount = named(
  'CreatedExternalAccount',
  externalAccount.extend({
    workflow: z.enum(['started', 'starting']).meta({
      description:
        'started: its workflow runs; starting: Temporal could not be reached, the account is saved and the worker starts its workflow when it can (MAILPULL_RECONCILE_SECONDS)',
    }),
  }),
);

export const accepted = named('Accepted', z.object({ accepted: z.literal(true) }));
export const resetIndexResult = named('ResetIndexResult', z.object({ forgotten: count, force: z.boolean() }));

export const externalAccountListItem = named(
  'ExternalAccountListItem',
  externalAccount.extend({
    state: z.enum([...ACCOUNT_STATES, 'new']).meta({ description: "from the status the account's workflow reported last; new: none yet" }),
    recordedStatus: z
      .object({
        phase: accountStatus.shape.phase,
        lastRun: runSummary.nullable(),
        lastError: failure.nullable(),
        nextRunAt: timestamp.nullable(),
        backlog: count,
        quarantined: count,
        recordedAt: timestamp,
      })
      .nullable()
      .meta({ description: 'what the workflow reported at the end of its last cycle; GET .../status has the live status' }),
  }),
);
export const externalAccountList = named(
  'ExternalAccountList',
  z.object({
    externalAccounts: z.array(externalAccountListItem),
    nextCursor: z.string().nullable().meta({ description: 'pass as `cursor` for the next page; null on the last page' }),
  }),
);
