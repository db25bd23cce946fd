import { z } from 'zod';
import { createExternalAccount } from './external-accounts';
import { oauthFields, text, tokenEndpoint, uuid } from './fields';

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
