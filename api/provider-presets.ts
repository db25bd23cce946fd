import { invalid } from './http-errors';
import { isProviderName, PROVIDER_NAMES, PROVIDERS, presetServer, type ProviderPreset } from '../core/providers';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A create request with `"provider"` filled from its preset before the schema reads it: server,
 * port, TLS, auth method, the OAuth2 provider and, for folder mode "all", the folders to leave
 * out. Fields the request gives win. Answers 400 naming the field for a provider mailpull does not
 * know or a protocol the provider does not offer. A body without `provider` is returned as it is.
 */
export function withProviderPreset(body: unknown): unknown {
  if (!isObject(body) || body.provider === undefined) return body;
  const name = body.provider;
  if (typeof name !== 'string' || !isProviderName(name)) {
    throw invalid('provider', `must be one of ${PROVIDER_NAMES.join(', ')}`);
  }
  const preset: ProviderPreset = PROVIDERS[name];
  const protocol = body.protocol ?? 'imap';
  if (protocol !== 'imap' && protocol !== 'pop3') return body; // the schema names the field
  const server = presetServer(preset, protocol);
  if (!server) throw invalid('protocol', `${preset.label} offers no ${protocol.toUpperCase()}; use imap`);
  const filled: Record<string, unknown> = {
    protocol,
    host: server.host,
    port: server.port,
    tlsMode: server.tlsMode,
    authMethod: preset.authMethod,
    ...body,
  };
  // a hand-given host is another server: the preset's port and TLS are not assumed for it
  if (body.host !== undefined && body.host !== server.host) {
    if (body.port === undefined) delete filled.port;
    if (body.tlsMode === undefined) delete filled.tlsMode;
  }
  if (filled.authMethod === 'xoauth2' && preset.oauthProvider && isObject(body.oauth) && body.oauth.provider === undefined) {
    filled.oauth = { provider: preset.oauthProvider, ...body.oauth };
  }
  if (protocol === 'imap' && isObject(body.folders) && body.folders.mode === 'all' && body.folders.exclude === undefined) {
    filled.folders = { ...body.folders, exclude: [...preset.excludeFolders] };
  }
  return filled;
}

/** What GET /api/providers shows: the presets an admin can pick, without anything secret (there is nothing secret in them). */
export const providerList = () =>
  PROVIDER_NAMES.map((name) => {
    const p = PROVIDERS[name];
    return {
      name: p.name,
      label: p.label,
      imap: p.imap,
      pop3: p.pop3,
      authMethod: p.authMethod,
      oauthProvider: p.oauthProvider,
      scopes: [...p.scopes],
      excludeFolders: [...p.excludeFolders],
      maxImapConnections: p.maxImapConnections,
      note: p.note,
    };
  });
