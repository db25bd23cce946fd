/**
 * Signing in at a provider (OAuth2, the code flow with PKCE): the page asks the API for a sign-in,
 * leaves for the provider's consent page, and the API's /oauth/callback sends the browser back
 * here with the outcome in the query.
 */
import { api } from './api';
import { flash } from './dom';
import type { OAuthApp, OAuthAppList, SignInStarted } from './types';

const NAMES: Record<OAuthApp['provider'], string> = { google: 'Google', microsoft: 'Microsoft', custom: '' };

/** The provider's name in `names`; another authorization server by its host. */
export const providerName = (app: OAuthApp, names: Record<OAuthApp['provider'], string> = NAMES): string =>
  names[app.provider] || new URL(app.issuer ?? app.authorizationEndpoint).host;

/** "Sign in with Google", "… with Microsoft"; another authorization server by its host. */
export const signInLabel = (app: OAuthApp): string => `Sign in with ${providerName(app)}`;

/** The installation's OAuth apps and the redirect URL to register at the providers. */
export const oauthApps = (): Promise<OAuthAppList> => api<OAuthAppList>('GET', '/api/oauth/apps');

/**
 * What the sign-in is for: an account signed in again (Reconnect), a new one created once the
 * provider agreed, or a local account's own mailbox behind an IMAP target (where its mail goes).
 */
export type SignInTarget =
  | { externalAccountId: string }
  | { account: Record<string, unknown> }
  | { localAccountId: string; deliveryTargetId: string; username: string };

/** Starts a sign-in and leaves for the provider; the browser comes back to `returnTo` (the overview). */
export async function signInAt(provider: OAuthApp['provider'], target: SignInTarget, returnTo = '/#/'): Promise<void> {
  const started = await api<SignInStarted>('POST', '/api/oauth/sessions', { provider, flow: 'browser', returnTo, ...target });
  if (started.flow === 'device') throw new Error('the API started a device sign-in, not one for the browser');
  location.assign(started.authorizationUrl);
}

/** The outcome the callback put in the address (?oauth=done|failed): shown once, then taken out of the address. */
export function showSignInOutcome(): void {
  const query = new URLSearchParams(location.search);
  const outcome = query.get('oauth');
  if (!outcome) return;
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  if (outcome === 'done' && location.hash.startsWith('#/accounts/'))
    flash("Signed in at the provider: the account's mail is delivered into that mailbox.");
  else if (outcome === 'done') flash('Signed in at the provider: the account collects with the new grant.');
  else flash(`The sign-in failed: ${query.get('message') ?? 'the provider gave no reason'}`, 'error');
}
