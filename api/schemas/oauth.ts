import { z } from 'zod';
import { answerUuid, count, named, timestamp } from './answers';
import { createExternalAccount } from './external-accounts';
import { oauthFields, protocolSafe, text, tokenEndpoint, uuid } from './fields';

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
  /** … or for this local account's own mailbox at the provider, where its mail is delivered (its APPEND login) … */
  localAccountId: uuid.optional(),
  /** … behind this IMAP target with imapLogin "oauth" (with localAccountId) … */
  deliveryTargetId: uuid.optional(),
  /** … logged in to as this user: the mailbox's address at the provider (with localAccountId) */
  username: protocolSafe(320).optional(),
  /** browser flow: the path on mailpull the browser returns to, with ?oauth=done|failed */
  returnTo: text(500).optional(),
  /** loopback flow: http://127.0.0.1:PORT/PATH, where the CLI waits for the provider's redirect */
  redirectUri: text(500).optional(),
});

/** The CLI hands on the provider's redirect to its loopback address. */
export const completeSignIn = z.strictObject({ callbackUrl: text(8000) });

const provider = oauthFields.provider;
const flow = z.enum(['browser', 'loopback', 'device']);

export const oauthApp = named(
  'OAuthApp',
  z.object({
    provider,
    clientId: z.string(),
    tenant: z.string().nullable().meta({ description: 'Microsoft: the Entra ID tenant ("common", "organizations" or a tenant id)' }),
    issuer: z.string().nullable().meta({ description: "custom: the authorization server's issuer" }),
    authorizationEndpoint: z.string(),
    tokenEndpoint: z.string(),
    deviceAuthorizationEndpoint: z.string().nullable(),
    scope: z.string().meta({ description: 'asked for at sign-in' }),
    source: z.enum(['api', 'env']).meta({ description: 'env: set by MAILPULL_OAUTH_* variables, not changed through the API' }),
    deviceFlow: z.boolean().meta({ description: 'whether the device flow is offered (the provider has a device authorization endpoint)' }),
    clientSecretSet: z.boolean(),
  }),
  'an OAuth app of the installation; its client secret is never shown',
);
export const oauthAppList = named(
  'OAuthAppList',
  z.object({
    redirectUri: z.string().meta({ description: "the redirect URI to register with the provider for the admin page's sign-ins" }),
    apps: z.array(oauthApp),
  }),
);

export const signInStarted = named(
  'SignInStarted',
  z.union([
    z.object({
      id: answerUuid,
      flow: z.enum(['browser', 'loopback']),
      authorizationUrl: z.string().meta({ description: 'where the user consents at the provider' }),
      redirectUri: z.string(),
      expiresAt: timestamp,
    }),
    z.object({
      id: answerUuid,
      flow: z.literal('device'),
      userCode: z.string(),
      verificationUri: z.string(),
      verificationUriComplete: z.string().nullable(),
      intervalSeconds: count,
      expiresAt: timestamp,
    }),
  ]),
  'a sign-in under way: the browser and loopback flows go to authorizationUrl, the device flow shows userCode at verificationUri',
);
export const signIn = named(
  'SignIn',
  z.object({
    id: answerUuid,
    provider,
    flow,
    status: z.enum(['pending', 'done', 'failed', 'expired']),
    message: z.string().nullable().meta({ description: 'why it failed' }),
    externalAccountId: answerUuid.nullable().meta({ description: 'the external account it created or reconnected' }),
    localAccountId: answerUuid.nullable(),
    expiresAt: timestamp,
  }),
);
