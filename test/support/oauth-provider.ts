import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import * as oidcProvider from 'oidc-provider';
import { testEnv } from '../../testkit/env';

type Payload = Record<string, unknown>;

/**
 * oidc-provider's storage, in memory: every token, grant and session by model. Tests reach in to
 * expire access tokens at the server (as a provider's own expiry or revocation would).
 */
class MemoryStore {
  static readonly models = new Map<string, Map<string, { payload: Payload; expiresAt: number | null }>>();
  static readonly saved: { model: string; id: string }[] = [];

  private readonly entries: Map<string, { payload: Payload; expiresAt: number | null }>;
  constructor(private readonly model: string) {
    const existing = MemoryStore.models.get(model);
    this.entries = existing ?? new Map();
    if (!existing) MemoryStore.models.set(model, this.entries);
  }

  private live(id: string): Payload | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt < Date.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  upsert(id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
    this.entries.set(id, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : null });
    MemoryStore.saved.push({ model: this.model, id });
    return Promise.resolve();
  }
  find(id: string): Promise<Payload | undefined> {
    return Promise.resolve(this.live(id));
  }
  findByUid(uid: string): Promise<Payload | undefined> {
    for (const [id, entry] of this.entries) if (entry.payload.uid === uid) return Promise.resolve(this.live(id));
    return Promise.resolve(undefined);
  }
  findByUserCode(userCode: string): Promise<Payload | undefined> {
    for (const [id, entry] of this.entries) if (entry.payload.userCode === userCode) return Promise.resolve(this.live(id));
    return Promise.resolve(undefined);
  }
  consume(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }
  destroy(id: string): Promise<void> {
    this.entries.delete(id);
    return Promise.resolve();
  }
  revokeByGrantId(grantId: string): Promise<void> {
    for (const entries of MemoryStore.models.values()) {
      for (const [id, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(id);
    }
    return Promise.resolve();
  }
}

/** The client id and secret Dovecot's oauth2 passdb introspects with (scripts/dovecot.sh writes them). */
async function dovecotClient(): Promise<{ id: string; secret: string }> {
  const text = await readFile(path.join(testEnv.dovecotDir(), 'oauth2-introspection-client'), 'utf8');
  const [id, secret] = text.trim().split(':');
  return { id, secret };
}

/**
 * A real OAuth2 / OpenID Connect authorization server on loopback: oidc-provider (certified),
 * on the port the test Dovecot introspects tokens at (RFC 7662, as its oauth2 passdb is set up by
 * scripts/dovecot.sh). Its development sign-in pages accept any login name (the Dovecot user)
 * with any password; the access tokens it issues name that user (`sub`), which Dovecot checks.
 * Code flow with PKCE, device authorization (RFC 8628), refresh tokens, revocation.
 */
export class OAuthProvider {
  readonly clientId = 'mailpull-test-client';
  /** token endpoint requests (every grant type) */
  tokenRequests = 0;
  readonly scope = 'openid offline_access';

  private constructor(
    private readonly server: http.Server,
    readonly provider: oidcProvider.Provider,
    readonly issuer: string,
    readonly clientSecret: string,
  ) {}

  /** `redirectUris`: where the mailpull client may be sent back to (the test API's /oauth/callback). */
  static async start(options: { redirectUris?: string[]; accessTtlSeconds?: number } = {}): Promise<OAuthProvider> {
    const issuer = `http://127.0.0.1:${testEnv.oauth2Port()}`;
    const dovecot = await dovecotClient();
    const clientSecret = `cs-${randomBytes(12).toString('hex')}`;
    const provider = new oidcProvider.Provider(issuer, {
      adapter: MemoryStore,
      clients: [
        {
          client_id: 'mailpull-test-client',
          client_secret: clientSecret,
          redirect_uris: options.redirectUris ?? [`${issuer}/no-redirect`],
          grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_post',
        },
        {
          client_id: dovecot.id,
          client_secret: dovecot.secret,
          redirect_uris: [],
          grant_types: [],
          response_types: [],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      features: {
        devInteractions: { enabled: true },
        deviceFlow: { enabled: true },
        introspection: { enabled: true },
        revocation: { enabled: true },
      },
      scopes: ['openid', 'offline_access'],
      pkce: { required: () => true },
      ttl: { AccessToken: options.accessTtlSeconds ?? 3600 },
      findAccount: (_ctx: unknown, id: string) => Promise.resolve({ accountId: id, claims: () => Promise.resolve({ sub: id }) }),
      cookies: { keys: [randomBytes(16).toString('hex')] },
    });
    const server = http.createServer(provider.callback());
    const self = new OAuthProvider(server, provider, issuer, clientSecret);
    provider.use(async (ctx, next) => {
      if (ctx.path === '/token' && ctx.method === 'POST') self.tokenRequests++;
      await next();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(testEnv.oauth2Port(), '127.0.0.1', () => resolve());
    });
    return self;
  }

  get tokenEndpoint(): string {
    return `${this.issuer}/token`;
  }

  /** Every code, access and refresh token the server handed out, for searching logs, history and answers. */
  get issued(): string[] {
    const secret = new Set(['AuthorizationCode', 'DeviceCode', 'AccessToken', 'RefreshToken']);
    return MemoryStore.saved.filter((s) => secret.has(s.model)).map((s) => s.id);
  }

  /** Revokes every grant the user gave (consent withdrawn, password changed): their refresh tokens answer invalid_grant. */
  async revokeUser(username: string): Promise<void> {
    const grants = [...(MemoryStore.models.get('Grant')?.entries() ?? [])].filter(([, e]) => e.payload.accountId === username);
    for (const [grantId] of grants) {
      await new MemoryStore('Grant').revokeByGrantId(grantId);
      await new MemoryStore('Grant').destroy(grantId);
    }
  }

  /** A refresh token for the user, as the provider's consent flow would give it (a grant of openid offline_access). */
  async grant(username: string): Promise<string> {
    const grant = new this.provider.Grant({ accountId: username, clientId: this.clientId });
    grant.addOIDCScope(this.scope);
    const grantId = await grant.save();
    const client = await this.provider.Client.find(this.clientId);
    const token = new this.provider.RefreshToken({ accountId: username, client, grantId, scope: this.scope, gty: 'authorization_code' });
    return token.save();
  }

  /** Revokes the grant behind a refresh token, and every token of it (the user withdrew consent). */
  async revoke(refreshToken: string): Promise<void> {
    const token = (await this.provider.RefreshToken.find(refreshToken)) as { grantId?: string } | undefined;
    const grant = token?.grantId ? await this.provider.Grant.find(token.grantId) : undefined;
    if (grant) await grant.destroy();
    await new MemoryStore('RefreshToken').destroy(refreshToken);
  }

  /** Every access token handed out so far stops working at the server (expired or revoked there). */
  invalidateAccessTokens(): void {
    MemoryStore.models.get('AccessToken')?.clear();
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
