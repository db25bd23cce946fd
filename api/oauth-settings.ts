import { OAUTH_PRESETS, type OAuthSettings } from '../core/oauth';
import type { OAuthInput } from './schemas';

/**
 * The OAuth2 settings after a create or update: the input over what is stored, presets filling
 * the endpoint and scope. A changed provider takes its preset again unless the input gives them.
 */
export function resolveOAuth(stored: OAuthSettings | null, input: OAuthInput): OAuthSettings | { field: string; message: string } {
  const provider = input.provider ?? stored?.provider;
  if (!provider) return { field: 'oauth.provider', message: 'is required for authMethod xoauth2 (google, microsoft or custom)' };
  const preset = provider === 'custom' ? null : OAUTH_PRESETS[provider];
  const keep = stored?.provider === provider ? stored : null;
  const tokenEndpoint = input.tokenEndpoint ?? keep?.tokenEndpoint ?? preset?.tokenEndpoint;
  if (!tokenEndpoint) return { field: 'oauth.tokenEndpoint', message: 'is required for provider custom' };
  const clientId = input.clientId ?? stored?.clientId;
  if (!clientId) return { field: 'oauth.clientId', message: 'is required for authMethod xoauth2' };
  const scope = input.scope !== undefined ? input.scope : keep ? keep.scope : (preset?.scope ?? null);
  return { provider, tokenEndpoint, clientId, scope };
}
