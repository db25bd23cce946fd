import { z } from 'zod';
import { PROVIDER_NAMES } from '../core/providers';
import { ACCOUNT_STATES } from '../core/account-state';
import { FAILURE_KINDS, PHASES, PUSH_PHASES, RUN_OUTCOMES } from '../core/account-status';
import { TLS_MODES, TLS_OUTCOMES } from '../core/tls-decision';

/**
 * What the API answers, as zod schemas: the OpenAPI document (api/openapi.ts) is generated from
 * them, and test/openapi.test.ts checks real answers against that document and these schemas
 * against the types the routes return. Each schema is registered under its component name.
 */
export const responseSchemas = z.registry<{ id: string }>();

function named<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  const described = description ? schema.describe(description) : schema;
  responseSchemas.add(described, { id });
  return described;
}

const timestamp = named('Timestamp', z.iso.datetime(), 'an instant in UTC, ISO 8601');
const uuid = z.uuid();
const count = z.number().int().min(0);
const tlsMode = z.enum(TLS_MODES);

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

export const health = named('Health', z.object({ ok: z.literal(true) }));
export const me = named(
  'Me',
  z.object({
    id: z.string(),
    scope: z.enum(['admin', 'read']),
    domainIds: z.array(uuid).nullable().meta({ description: 'the local domains the token is limited to; null: every domain' }),
    messagesRead: z.boolean().meta({ description: 'may read message bodies (/raw)' }),
  }),
);
export const uiConfig = named(
  'UiConfig',
  z.object({
    temporalUiUrl: z.string().nullable().meta({ description: 'MAILPULL_TEMPORAL_UI_URL; null: not configured' }),
    temporalNamespace: z.string(),
  }),
);

export const appendLogin = named(
  'AppendLogin',
  z.object({
    accountId: uuid,
    deliveryTargetId: uuid,
    username: z.string(),
    oauth: z.object({
      provider: z.enum(['google', 'microsoft', 'custom']),
      tokenEndpoint: z.string(),
      clientId: z.string(),
      scope: z.string().nullable(),
      clientSecretSet: z.boolean(),
      refreshTokenSet: z.boolean(),
      accessTokenExpiresAt: timestamp.nullable(),
    }),
    reauthorizationReason: z
      .string()
      .nullable()
      .meta({ description: 'set when the provider revoked the grant: messages for the account are held until it is linked again' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
  'A local account\'s own mailbox behind an IMAP target with imapLogin "oauth"; secrets are never shown',
);

const serverPreset = z.object({ host: z.string(), port: z.number().int(), tlsMode });
export const providerList = named(
  'ProviderList',
  z.object({
    providers: z.array(
      z.object({
        name: z.enum(PROVIDER_NAMES),
        label: z.string(),
        imap: serverPreset,
        pop3: serverPreset.nullable().meta({ description: 'null: the provider offers no POP3' }),
        authMethod: z.enum(['password', 'xoauth2']),
        oauthProvider: z.enum(['google', 'microsoft']).nullable(),
        scopes: z.array(z.string()),
        excludeFolders: z.array(z.string()).meta({ description: 'left out of folders mode "all" unless the account says otherwise' }),
        maxImapConnections: z
          .number()
          .int()
          .nullable()
          .meta({ description: "the provider's limit on simultaneous IMAP connections per user" }),
        note: z.string().meta({ description: 'what the admin must do at the provider first' }),
      }),
    ),
  }),
);

export const openApiDocument = named(
  'OpenApiDocument',
  z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  }),
);

export const domain = named(
  'Domain',
  z.object({
    id: uuid,
    name: z.string(),
    enabled: z.boolean(),
    deliveryTargetId: uuid.nullable().meta({ description: "where its accounts' mail goes; null: the built-in store" }),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const domainList = named('DomainList', z.object({ domains: z.array(domain) }));

export const account = named(
  'Account',
  z.object({ id: uuid, domainId: uuid, address: z.string(), enabled: z.boolean(), createdAt: timestamp, updatedAt: timestamp }),
);
export const accountList = named('AccountList', z.object({ accounts: z.array(account) }));

const storedMessage = named(
  'StoredMessage',
  z.object({
    id: z.string(),
    folder: z.string(),
    size: count,
    internalDate: timestamp,
    flags: z.array(z.string()),
    subject: z.string().nullable(),
    from: z.string().nullable(),
    messageId: z.string().nullable(),
    externalAccountId: uuid.nullable(),
    sourceFolder: z.string(),
    sourceUid: z.string().nullable(),
    deliveredAt: timestamp,
  }),
);
export const messagePage = named('MessagePage', z.object({ total: count, messages: z.array(storedMessage), limit: count, offset: count }));

export const externalAccount = named(
  'ExternalAccount',
  z.object({
    id: uuid,
    ownerAccountId: uuid,
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
    oauth: z
      .object({
        provider: z.enum(['google', 'microsoft', 'custom']),
        tokenEndpoint: z.string(),
        clientId: z.string(),
        scope: z.string().nullable(),
        clientSecretSet: z.boolean(),
        refreshTokenSet: z.boolean(),
        accessTokenExpiresAt: timestamp.nullable(),
      })
      .nullable()
      .meta({ description: 'set exactly when authMethod is xoauth2; the secrets are never shown' }),
    reauthorizationReason: z.string().nullable(),
    folders: z.discriminatedUnion('mode', [
      z.object({ mode: z.literal('inbox') }),
      z.object({ mode: z.literal('list'), names: z.array(z.string()) }),
      z.object({ mode: z.literal('all'), exclude: z.array(z.string()) }),
    ]),
    mirrorFolders: z.boolean(),
    push: z.boolean(),
    receiveTime: z.enum(['download', 'receivedHeader']),
    forwardToAccountId: uuid.nullable(),
    intervalMinutes: z.number().int(),
    maxMessageBytes: z.number().int().nullable(),
    deletePolicy: z.union([z.literal('never'), z.literal('immediately'), z.object({ afterDays: count })]),
    mimeRecipients: z.object({ enabled: z.boolean(), headers: z.array(z.string()), allDomains: z.boolean() }),
    deliveryTarget: z.union([z.literal('store'), uuid]).nullable(),
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

const oauthProvider = z.enum(['google', 'microsoft', 'custom']);

export const oauthAppList = named(
  'OAuthAppList',
  z.object({
    redirectUri: z.string().meta({ description: 'the redirect URI to register at the provider for the browser flow' }),
    apps: z.array(
      z.object({
        provider: oauthProvider,
        clientId: z.string(),
        tenant: z.string().nullable(),
        issuer: z.string().nullable(),
        authorizationEndpoint: z.string(),
        tokenEndpoint: z.string(),
        deviceAuthorizationEndpoint: z.string().nullable(),
        scope: z.string(),
        source: z.enum(['api', 'env']),
        deviceFlow: z.boolean().meta({ description: 'the app offers device authorization (RFC 8628) for mail' }),
        clientSecretSet: z.boolean(),
      }),
    ),
  }),
  "The installation's OAuth apps; client secrets are never shown",
);

export const signInStarted = named(
  'SignInStarted',
  z.discriminatedUnion('flow', [
    z.object({
      id: uuid,
      flow: z.literal('device'),
      userCode: z.string(),
      verificationUri: z.string(),
      verificationUriComplete: z.string().nullable(),
      intervalSeconds: count,
      expiresAt: timestamp,
    }),
    z.object({
      id: uuid,
      flow: z.enum(['browser', 'loopback']),
      authorizationUrl: z.string().meta({ description: "the provider's consent page" }),
      redirectUri: z.string(),
      expiresAt: timestamp,
    }),
  ]),
  'A sign-in started: the consent URL (browser, loopback) or the code to enter at the provider (device)',
);

export const signIn = named(
  'SignIn',
  z.object({
    id: uuid,
    provider: oauthProvider,
    flow: z.enum(['browser', 'loopback', 'device']),
    status: z.enum(['pending', 'done', 'failed', 'expired']),
    message: z.string().nullable(),
    externalAccountId: uuid.nullable(),
    localAccountId: uuid.nullable(),
    expiresAt: timestamp,
  }),
);

export const accepted = named('Accepted', z.object({ accepted: z.literal(true) }));
export const resetIndexResult = named('ResetIndexResult', z.object({ forgotten: count, force: z.boolean() }));

const failure = z.object({
  kind: z.enum(FAILURE_KINDS),
  message: z.string(),
  at: timestamp,
});

const runSummary = z.object({
  startedAt: timestamp,
  finishedAt: timestamp,
  outcome: z.enum(RUN_OUTCOMES),
  onServer: count,
  newOnServer: count,
  downloadedBytes: count,
  removed: count,
  tooLarge: count,
  skipped: count,
  resyncedFolders: z.array(z.string()),
  delivered: count,
  recognized: count,
  held: count,
  quarantined: count,
  failed: count,
});

export const accountStatus = named(
  'AccountStatus',
  z.object({
    externalAccountId: uuid,
    phase: z.enum(PHASES),
    disabledReason: z.string().nullable(),
    authBackoff: z.object({ failures: count, delaySeconds: count }).nullable(),
    providerWait: z
      .object({ message: z.string(), at: timestamp })
      .nullable()
      .meta({ description: 'the provider asked mailpull to wait (a daily download limit, a throttling answer): until when, and why' }),
    progress: z.object({ done: count, total: count }).nullable(),
    tls: z.enum(TLS_OUTCOMES).nullable(),
    tlsWarning: z.string().nullable(),
    folderWarning: z.string().nullable(),
    push: z.enum(PUSH_PHASES),
    pushError: failure.nullable(),
    lastPushAt: timestamp.nullable(),
    lastResync: z.object({ folders: z.array(z.string()), at: timestamp }).nullable(),
    lastRun: runSummary.nullable(),
    delivery: z.object({
      backlog: count,
      quarantined: count,
      nextAttemptAt: timestamp.nullable(),
      lastError: z.object({ message: z.string(), at: timestamp }).nullable(),
    }),
    lastError: failure.nullable(),
    nextRunAt: timestamp.nullable(),
    rerunQueued: z.boolean(),
    counts: z.object({ cycles: count, failedCycles: count, delivered: count, recognized: count, removed: count, quarantined: count }),
    retrying: z
      .object({ activity: z.string(), attempt: z.number().int().min(1), lastError: z.object({ kind: z.string(), message: z.string() }) })
      .nullable()
      .meta({ description: 'the step of the running cycle being retried, and why' }),
  }),
);

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

export const deliveryTarget = named(
  'DeliveryTarget',
  z.object({
    id: uuid,
    name: z.string(),
    kind: z.enum(['lmtp', 'smtp', 'imap']),
    host: z.string().nullable(),
    port: z.number().int().nullable(),
    socketPath: z.string().nullable(),
    tlsMode,
    tlsCa: z.string().nullable(),
    allowInvalidCertificates: z.boolean(),
    username: z.string().nullable(),
    passwordSet: z.boolean(),
    imapLogin: z.enum(['master', 'user', 'oauth']).nullable(),
    maxConnections: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const deliveryTargetList = named('DeliveryTargetList', z.object({ deliveryTargets: z.array(deliveryTarget) }));

export const heldMessage = named(
  'HeldMessage',
  z.object({
    id: z.string(),
    externalAccountId: uuid,
    sourceFolder: z.string(),
    sourceUid: z.string(),
    localFolder: z.string(),
    size: count,
    internalDate: timestamp,
    flags: z.array(z.string()),
    envelopeFrom: z.string(),
    subject: z.string().nullable(),
    from: z.string().nullable(),
    messageId: z.string().nullable(),
    state: z.enum(['quarantined', 'pending']),
    reason: z.string(),
    attempts: count,
    nextAttemptAt: timestamp,
    createdAt: timestamp,
    quarantinedAt: timestamp.nullable(),
    recipients: z.array(z.object({ accountId: uuid, address: z.string(), state: z.enum(['pending', 'rejected']), response: z.string() })),
  }),
);
export const heldPage = named('HeldPage', z.object({ total: count, messages: z.array(heldMessage) }));

const auditEntry = named(
  'AuditEntry',
  z.object({
    id: z.string(),
    at: timestamp,
    tokenId: z.string(),
    action: z.string().meta({ description: 'method and path pattern, e.g. "PATCH /api/external-accounts/:id"' }),
    object: z.string(),
    fields: z.array(z.string()).meta({ description: 'the names of the fields the request set, never their values' }),
    status: z.number().int(),
  }),
);
export const auditPage = named('AuditPage', z.object({ total: count, entries: z.array(auditEntry), limit: count, offset: count }));
