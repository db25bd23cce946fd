import { createHash } from 'node:crypto';

/** The secrets an external account may hold. */
export type AccountSecretName = 'password' | 'oauth_client_secret' | 'oauth_refresh_token' | 'oauth_access_token';
const ACCOUNT_SECRET_NAMES: readonly AccountSecretName[] = ['password', 'oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token'];

/** Where an account's password or access token is sent: the mail server and how it is reached. */
export interface BoundServer {
  protocol: string;
  host: string;
  port: number;
  tlsMode: string;
  tlsCa: string | null;
  allowInvalidCertificates: boolean;
  username: string;
}

/** Where an account's client secret and refresh token are sent. */
export interface BoundTokenEndpoint {
  tokenEndpoint: string;
  clientId: string;
}

/** Where a delivery target's password is sent. */
export interface BoundTarget {
  kind: string;
  host: string | null;
  port: number | null;
  socketPath: string | null;
  tlsMode: string;
  tlsCa: string | null;
  allowInvalidCertificates: boolean;
  username: string | null;
}

type Part = string | number | boolean | null;

// A JSON array: unambiguous whatever a part holds, and what migration 019 builds with to_jsonb for existing secrets.
const canonical = (parts: Part[]): string => JSON.stringify(parts);

// A CA certificate is long; its hash stands for it (a new CA could let another server pass as this one).
const caHash = (pem: string | null): string | null => (pem === null ? null : createHash('sha256').update(pem, 'utf8').digest('hex'));

const serverParts = (s: BoundServer): Part[] => [
  s.protocol,
  s.host,
  s.port,
  s.tlsMode,
  caHash(s.tlsCa),
  s.allowInvalidCertificates,
  s.username,
];

const tokenParts = (o: BoundTokenEndpoint | null): Part[] => [o?.tokenEndpoint ?? null, o?.clientId ?? null];

/**
 * What a sealed account secret is bound to: the places it may be sent. A password and an access
 * token go to the mail server; a client secret to the token endpoint; a refresh token to the token
 * endpoint, and what it mints goes to the mail server, so it is bound to both.
 */
export function accountSecretBinding(name: AccountSecretName, server: BoundServer, oauth: BoundTokenEndpoint | null): string {
  switch (name) {
    case 'password':
      return canonical(serverParts(server));
    case 'oauth_client_secret':
      return canonical(tokenParts(oauth));
    case 'oauth_refresh_token':
    case 'oauth_access_token':
      return canonical([...serverParts(server), ...tokenParts(oauth)]);
  }
}

/** What a client secret is bound to: the token endpoint and client id (an account's own, or an installation's OAuth app's). */
export const clientSecretBinding = (oauth: BoundTokenEndpoint): string => canonical(tokenParts(oauth));

/** What a delivery target's sealed password is bound to. */
export const targetPasswordBinding = (t: BoundTarget): string =>
  canonical([t.kind, t.host, t.port, t.socketPath, t.tlsMode, caHash(t.tlsCa), t.allowInvalidCertificates, t.username]);

/** The API field that gives each secret again. */
export const SECRET_FIELDS: Record<AccountSecretName, string> = {
  password: 'password',
  oauth_client_secret: 'oauth.clientSecret',
  oauth_refresh_token: 'oauth.refreshToken',
  oauth_access_token: 'oauth.refreshToken',
};

const SECRET_LABELS: Record<AccountSecretName, string> = {
  password: 'password',
  oauth_client_secret: 'OAuth2 client secret',
  oauth_refresh_token: 'OAuth2 refresh token',
  oauth_access_token: 'OAuth2 access token',
};

/** Why a stored secret is not used: the account (or target) now points elsewhere than where it was given. */
export const misboundMessage = (name: AccountSecretName): string =>
  `the stored ${SECRET_LABELS[name]} was given for another server; enter it again`;

const BOUND_TO: Record<AccountSecretName, string> = {
  password: 'server, port, TLS mode, CA certificate, certificate check or username',
  oauth_client_secret: 'token endpoint or client id',
  oauth_refresh_token: 'server, port, TLS mode, CA certificate, certificate check, username, token endpoint or client id',
  oauth_access_token: 'server, port, TLS mode, CA certificate, certificate check, username, token endpoint or client id',
};

/** Why a change is refused without the secret again. */
export const rebindMessage = (name: AccountSecretName): string =>
  `must be given again with a new ${BOUND_TO[name]}: the stored ${SECRET_LABELS[name]} was given for the old ones and is not sent elsewhere`;

/** Why a delivery target's change is refused without its password again. */
export const TARGET_REBIND_MESSAGE =
  'must be given again with a new kind, host, port, socket, TLS mode, CA certificate, certificate check or username: ' +
  'the stored password was given for the old ones and is not sent elsewhere';

/**
 * The secrets a change of settings must be given again with (it was bound to settings that
 * change) and those it drops (an access token is only minted again). `given`: the secrets the
 * request sets or removes itself.
 */
export function rebinding(
  stored: ReadonlySet<AccountSecretName>,
  given: ReadonlySet<AccountSecretName>,
  before: (name: AccountSecretName) => string,
  after: (name: AccountSecretName) => string,
): { required: AccountSecretName[]; dropped: AccountSecretName[] } {
  const moved = ACCOUNT_SECRET_NAMES.filter((name) => stored.has(name) && !given.has(name) && before(name) !== after(name));
  return {
    required: moved.filter((name) => name !== 'oauth_access_token'),
    dropped: moved.filter((name) => name === 'oauth_access_token'),
  };
}

/** The secrets of a local account's APPEND login (its own mailbox behind an OAuth2 APPEND target). */
export type AppendSecretName = 'oauth_client_secret' | 'oauth_refresh_token' | 'oauth_access_token';

/** The APPEND target a login's tokens go to: where it is, not whose login it uses. */
const targetServerParts = (t: BoundTarget): Part[] => [
  t.kind,
  t.host,
  t.port,
  t.socketPath,
  t.tlsMode,
  caHash(t.tlsCa),
  t.allowInvalidCertificates,
];

/**
 * What a sealed APPEND login secret is bound to: a client secret to the token endpoint; a refresh
 * and an access token to the token endpoint and to the target's server and the login's user, so
 * re-pointing the target or the login needs a new sign-in.
 */
export function appendSecretBinding(name: AppendSecretName, target: BoundTarget, username: string, oauth: BoundTokenEndpoint): string {
  if (name === 'oauth_client_secret') return canonical(tokenParts(oauth));
  return canonical([...targetServerParts(target), username, ...tokenParts(oauth)]);
}
