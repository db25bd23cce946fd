import { OAUTH_PRESETS, type OAuthProvider } from './oauth';

/**
 * An OAuth app of the installation: what the admin registered at Google Cloud, Entra ID or
 * another authorization server, once for every account. The client secret is stored apart, sealed.
 */
export interface OAuthApp {
  provider: OAuthProvider;
  clientId: string;
  /** Microsoft: the Entra ID tenant ("common", "organizations" or a tenant id) */
  tenant: string | null;
  /** custom: the authorization server's issuer (its metadata names the endpoints) */
  issuer: string | null;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 8628; null where the provider offers none for mail scopes (Google) */
  deviceAuthorizationEndpoint: string | null;
  /** asked for at sign-in */
  scope: string;
  /** 'env': set by MAILPULL_OAUTH_* variables, not changed through the API */
  source: 'api' | 'env';
}

/** The endpoints of an authorization server, from its metadata (RFC 8414) or a provider's fixed ones. */
export interface ProviderEndpoints {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  deviceAuthorizationEndpoint: string | null;
}

const GOOGLE: ProviderEndpoints = {
  issuer: 'https://accounts.google.com',
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: OAUTH_PRESETS.google.tokenEndpoint,
  // Google's device flow does not grant the Gmail scope (https://mail.google.com/)
  deviceAuthorizationEndpoint: null,
};

/** Google's and Microsoft's endpoints (Microsoft's by tenant); a custom server's come from its metadata. */
export function knownEndpoints(provider: 'google' | 'microsoft', tenant: string | null): ProviderEndpoints {
  if (provider === 'google') return GOOGLE;
  const base = `https://login.microsoftonline.com/${encodeURIComponent(tenant ?? 'common')}`;
  return {
    issuer: `${base}/v2.0`,
    authorizationEndpoint: `${base}/oauth2/v2.0/authorize`,
    tokenEndpoint: `${base}/oauth2/v2.0/token`,
    deviceAuthorizationEndpoint: `${base}/oauth2/v2.0/devicecode`,
  };
}

/**
 * Whether a sign-in may use device authorization (RFC 8628) with this app. Entra ID runs the
 * device flow only for a public client: with a client secret set it refuses the secret the token
 * requests carry (AADSTS700025), there the CLI uses the loopback redirect instead.
 */
export function offersDeviceFlow(app: Pick<OAuthApp, 'provider' | 'deviceAuthorizationEndpoint'>, clientSecretSet: boolean): boolean {
  if (app.deviceAuthorizationEndpoint === null) return false;
  return !(app.provider === 'microsoft' && clientSecretSet);
}

/** What a sign-in asks for when the app names no scope of its own. */
export function defaultSignInScope(provider: OAuthProvider): string {
  if (provider === 'google') return 'https://mail.google.com/';
  if (provider === 'microsoft') return OAUTH_PRESETS.microsoft.scope ?? '';
  return 'openid offline_access';
}

/**
 * Parameters of the authorization request beyond PKCE and state. Consent is asked every time:
 * Google and Microsoft hand out a refresh token only then (Google also wants access_type=offline),
 * and OpenID Connect grants offline_access only with prompt=consent.
 */
export function consentParameters(provider: OAuthProvider): Record<string, string> {
  return provider === 'google' ? { access_type: 'offline', prompt: 'consent' } : { prompt: 'consent' };
}

/** How long a sign-in waits for the provider's answer. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** The path of the redirect URI the provider sends the browser back to (registered at the provider). */
export const CALLBACK_PATH = '/oauth/callback';

/** The redirect URI to register: the API's public address and the callback path. */
export const callbackUrl = (publicUrl: string): string => `${publicUrl.replace(/\/+$/, '')}${CALLBACK_PATH}`;

/**
 * Where the browser goes after the callback: a path on mailpull itself, never another site (an
 * open redirect would send the outcome, and the admin, anywhere). Null when it is acceptable.
 */
export function returnToProblem(value: string): string | null {
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return 'must be a path on mailpull, like /#accounts';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return 'must not contain control characters';
  }
  return null;
}

/** The return path with the outcome of the sign-in added to its query (before any fragment). */
export function returnWith(returnTo: string, outcome: Record<string, string>): string {
  const hash = returnTo.indexOf('#');
  const path = hash < 0 ? returnTo : returnTo.slice(0, hash);
  const fragment = hash < 0 ? '' : returnTo.slice(hash);
  const query = new URLSearchParams(outcome).toString();
  return `${path}${path.includes('?') ? '&' : '?'}${query}${fragment}`;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A redirect URI on the machine of whoever signs in (the CLI's, RFC 8252 §7.3): plain http to a
 * loopback address. Null when it is acceptable.
 */
export function loopbackRedirectProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  if (url.protocol !== 'http:' || !LOOPBACK_HOSTS.has(url.hostname) || url.username || url.password || url.search || url.hash) {
    return 'must be http://127.0.0.1:PORT/PATH (or [::1], localhost) without query or fragment';
  }
  return null;
}
