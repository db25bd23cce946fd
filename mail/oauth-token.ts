import { MailpullError } from '../core/errors';
import { readTokenAnswer } from '../core/oauth';
import type { OAuthSettings } from '../db/external-accounts';

export interface FreshToken {
  accessToken: string;
  expiresAt: Date;
  /** some providers (Microsoft) hand out a new refresh token with each refresh */
  refreshToken: string | null;
}

/** A token answer is a small JSON object; more than this is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** The response body as text, at most `limit` bytes of it (a hostile endpoint may send without end). */
async function boundedText(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || !value) break;
    chunks.push(value);
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new MailpullError('protocol', `the token endpoint's answer is larger than ${limit} bytes`);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
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
      // A redirect would send the client secret and the refresh token wherever it points.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // fetch's own message names only the failure, never the form it was sending
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new MailpullError('network', `the token endpoint ${new URL(oauth.tokenEndpoint).host} could not be reached${cause}`);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    throw new MailpullError(
      'config',
      `the token endpoint ${new URL(oauth.tokenEndpoint).host} answered ${response.status} (a redirect); redirects are not followed, since the request carries the client secret and the refresh token: set tokenEndpoint to the final address`,
    );
  }
  let body: unknown = null;
  try {
    body = JSON.parse(await boundedText(response, MAX_ANSWER_BYTES));
  } catch (err) {
    if (err instanceof MailpullError) throw err;
  }
  const answer = readTokenAnswer(response.status, body);
  if (!answer.ok) throw new MailpullError(answer.kind, answer.message);
  return {
    accessToken: answer.accessToken,
    expiresAt: new Date(started + answer.expiresInSeconds * 1000),
    refreshToken: answer.refreshToken,
  };
}
