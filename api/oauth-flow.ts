import * as oidc from 'openid-client';
import { MailpullError } from '../core/errors';
import type { NetworkPolicy } from '../core/network-policy';
import type { OAuthApp, ProviderEndpoints } from '../core/oauth-apps';
import { safeText } from '../core/safe-text';
import { policyFetch } from '../core/policy-fetch';

/*
 * The sign-in flows (authorization code with PKCE, RFC 8628 device authorization) through
 * openid-client. Every request it makes goes through policyFetch: to addresses the network policy
 * allows, redirects not followed. Errors name the provider's error code, never a code, verifier or
 * token.
 */

export interface FlowOptions {
  networkPolicy: NetworkPolicy;
  timeoutMs: number;
}

/** What the provider granted: the refresh token is what mailpull keeps. */
export interface Grant {
  refreshToken: string;
  accessToken: string;
  expiresInSeconds: number | null;
}

const insecure = (url: string): boolean => new URL(url).protocol === 'http:';

/** A custom authorization server's endpoints, from its metadata (OpenID Connect discovery, else RFC 8414). */
export async function discoverEndpoints(issuer: string, clientId: string, options: FlowOptions): Promise<ProviderEndpoints> {
  const config = await describe(
    () =>
      oidc.discovery(new URL(issuer), clientId, undefined, undefined, {
        [oidc.customFetch]: policyFetch(options),
        execute: insecure(issuer) ? [oidc.allowInsecureRequests] : [],
        timeout: Math.ceil(options.timeoutMs / 1000),
      }),
    `the metadata of ${issuer}`,
  );
  const m = config.serverMetadata();
  if (!m.authorization_endpoint || !m.token_endpoint) {
    throw new MailpullError('config', `the metadata of ${issuer} names no authorization or token endpoint`);
  }
  return {
    issuer: m.issuer,
    authorizationEndpoint: m.authorization_endpoint,
    tokenEndpoint: m.token_endpoint,
    deviceAuthorizationEndpoint: m.device_authorization_endpoint ?? null,
  };
}

/** The client of one app, with its secret (none: a public client). */
export function appClient(app: OAuthApp, clientSecret: string | null, options: FlowOptions): oidc.Configuration {
  const config = new oidc.Configuration(
    {
      issuer: app.issuer ?? new URL(app.authorizationEndpoint).origin,
      authorization_endpoint: app.authorizationEndpoint,
      token_endpoint: app.tokenEndpoint,
      ...(app.deviceAuthorizationEndpoint ? { device_authorization_endpoint: app.deviceAuthorizationEndpoint } : {}),
    },
    app.clientId,
    clientSecret ?? undefined,
    clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None(),
  );
  config[oidc.customFetch] = policyFetch(options);
  config.timeout = Math.ceil(options.timeoutMs / 1000);
  if ([app.authorizationEndpoint, app.tokenEndpoint, app.deviceAuthorizationEndpoint].some((u) => u !== null && insecure(u))) {
    oidc.allowInsecureRequests(config);
  }
  return config;
}

/** A fresh PKCE verifier and state, and the consent URL that carries the verifier's challenge (S256). */
export async function consentUrl(
  config: oidc.Configuration,
  request: { redirectUri: string; scope: string; extra: Record<string, string> },
): Promise<{ url: string; state: string; codeVerifier: string }> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    ...request.extra,
    redirect_uri: request.redirectUri,
    scope: request.scope,
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, state, codeVerifier };
}

const toGrant = (answer: oidc.TokenEndpointResponse, what: string): Grant => {
  if (!answer.refresh_token) {
    throw new MailpullError('config', `${what}: the provider granted no refresh token (is offline access among the app's scopes?)`);
  }
  return { refreshToken: answer.refresh_token, accessToken: answer.access_token, expiresInSeconds: answer.expires_in ?? null };
};

/**
 * Trades the code of the provider's redirect for tokens. `callback` is the redirect URI with the
 * query the provider added; the library checks the state and sends the verifier.
 */
export async function exchangeCode(
  config: oidc.Configuration,
  callback: URL,
  checks: { state: string; codeVerifier: string },
): Promise<Grant> {
  const answer = await describe(
    () => oidc.authorizationCodeGrant(config, callback, { expectedState: checks.state, pkceCodeVerifier: checks.codeVerifier }),
    'the code exchange',
  );
  return toGrant(answer, 'the code exchange');
}

export interface DeviceStart {
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresInSeconds: number;
  intervalSeconds: number;
  /** waits for the user's consent (polling the token endpoint as the server asks) until the grant, a refusal or `signal` */
  grant(signal: AbortSignal): Promise<Grant>;
}

/** Starts a device authorization (RFC 8628): the user code and where to enter it. */
export async function startDevice(config: oidc.Configuration, scope: string): Promise<DeviceStart> {
  const answer = await describe(() => oidc.initiateDeviceAuthorization(config, { scope }), 'the device authorization');
  return {
    userCode: answer.user_code,
    verificationUri: answer.verification_uri,
    verificationUriComplete: answer.verification_uri_complete ?? null,
    expiresInSeconds: answer.expires_in,
    intervalSeconds: answer.interval ?? 5,
    grant: async (signal) =>
      toGrant(
        await describe(() => oidc.pollDeviceAuthorizationGrant(config, answer, undefined, { signal }), 'the device sign-in'),
        'the device sign-in',
      ),
  };
}

/** The library's errors as mailpull's, naming the provider's error code and description only. */
async function describe<T>(work: () => Promise<T>, what: string): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof MailpullError) throw err;
    if (err instanceof oidc.ResponseBodyError || err instanceof oidc.AuthorizationResponseError) {
      const said = `${safeText(err.error, 100)}${err.error_description ? `: ${safeText(err.error_description, 300)}` : ''}`;
      throw new MailpullError(err.error === 'access_denied' ? 'auth' : 'config', `${what} was refused by the provider (${said})`);
    }
    const cause = err instanceof Error && err.cause instanceof MailpullError ? err.cause : null;
    if (cause) throw cause;
    const message = err instanceof Error ? safeText(err.message, 300) : 'unknown error';
    throw new MailpullError('protocol', `${what} failed: ${message}`);
  }
}
