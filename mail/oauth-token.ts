import { MailpullError } from '../core/errors';
import { readTokenAnswer } from '../core/oauth';
import type { OAuthSettings } from '../db/external-accounts';

export interface FreshToken {
  accessToken: string;
  expiresAt: Date;
  /** some providers (Microsoft) hand out a new refresh token with each refresh */
  refreshToken: string | null;
}

/** Trades the refresh token for a new access token at the provider's token endpoint (RFC 6749 §6). */
export async function refreshAccessToken(
  oauth: OAuthSettings,
  secrets: { clientSecret: string | undefined; refreshToken: string },
  timeoutMs: number,
): Promise<FreshToken> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secrets.refreshToken, client_id: oauth.clientId });
  if (secrets.clientSecret) form.set('client_secret', secrets.clientSecret);
  if (oauth.scope) form.set('scope', oauth.scope);
  const started = Date.now();
  let response: Response;
  try {
    response = await fetch(oauth.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // fetch's own message names only the failure, never the form it was sending
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new MailpullError('network', `the token endpoint ${new URL(oauth.tokenEndpoint).host} could not be reached${cause}`);
  }
  const body: unknown = await response.json().catch(() => null);
  const answer = readTokenAnswer(response.status, body);
  if (!answer.ok) throw new MailpullError(answer.kind, answer.message);
  return {
    accessToken: answer.accessToken,
    expiresAt: new Date(started + answer.expiresInSeconds * 1000),
    refreshToken: answer.refreshToken,
  };
}
