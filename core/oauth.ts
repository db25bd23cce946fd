export type OAuthProvider = 'google' | 'microsoft' | 'custom';

/** Where XOAUTH2 access tokens come from; the client secret and the tokens are secrets, stored apart. */
export interface OAuthSettings {
  provider: OAuthProvider;
  tokenEndpoint: string;
  clientId: string;
  /** sent with each refresh when set (Microsoft wants it; Google keeps the consented scope) */
  scope: string | null;
}

/** Token endpoints and scopes of the providers most admins collect from; `custom` takes any endpoint. */
export const OAUTH_PRESETS: Record<Exclude<OAuthProvider, 'custom'>, { tokenEndpoint: string; scope: string | null }> = {
  // Google keeps the scope granted at consent (https://mail.google.com/); a refresh sends none.
  google: { tokenEndpoint: 'https://oauth2.googleapis.com/token', scope: null },
  // "common" serves work and personal accounts; a tenant id or "organizations" also works.
  microsoft: {
    tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    scope: 'https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All offline_access',
  },
};

/** Refresh this long before the provider's expiry, so a token never runs out during a login. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

/** Whether the stored access token can be used for a login now. */
export function accessTokenUsable(token: string | undefined, expiresAt: Date | null, now: Date): boolean {
  return !!token && expiresAt !== null && expiresAt.getTime() - now.getTime() > REFRESH_MARGIN_MS;
}

export type TokenAnswer =
  | { ok: true; accessToken: string; expiresInSeconds: number; refreshToken: string | null }
  | { ok: false; kind: 'reauth' | 'config' | 'network' | 'protocol'; message: string };

/** What a token endpoint's answer means (RFC 6749 §5.1/§5.2); a message never holds a token. */
export function readTokenAnswer(status: number, body: unknown): TokenAnswer {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const text = (name: string): string | null => (typeof fields[name] === 'string' ? fields[name] : null);
  if (status === 200) {
    const accessToken = text('access_token');
    if (!accessToken) return { ok: false, kind: 'protocol', message: 'the token endpoint answered 200 without an access_token' };
    const expiresIn = Number(fields.expires_in);
    return {
      ok: true,
      accessToken,
      // without expires_in, assume the usual hour
      expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600,
      refreshToken: text('refresh_token'),
    };
  }
  const error = text('error');
  const description = text('error_description');
  const said = `${error ?? `HTTP ${status}`}${description ? `: ${description.slice(0, 300)}` : ''}`;
  if (error === 'invalid_grant') {
    return { ok: false, kind: 'reauth', message: `reauthorization needed: the provider refused the refresh token (${said})` };
  }
  if (status >= 500 || status === 429) return { ok: false, kind: 'network', message: `the token endpoint is unavailable (${said})` };
  return { ok: false, kind: 'config', message: `the token endpoint refused the client (${said})` };
}
