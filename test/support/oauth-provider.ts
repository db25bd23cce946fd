import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { testEnv } from '../../testkit/env';

interface Grant {
  username: string;
  revoked: boolean;
}

/**
 * A small OAuth2 provider on loopback: a token endpoint (refresh_token grant, RFC 6749 §6) for
 * mailpull and an introspection endpoint (RFC 7662) for the test Dovecot's oauth2 passdb, on the
 * port Dovecot is configured with.
 */
export class OAuthProvider {
  readonly clientId = 'mailpull-test-client';
  readonly clientSecret = `cs-${randomBytes(12).toString('hex')}`;
  private grants = new Map<string, Grant>();
  private access = new Map<string, { username: string; valid: boolean }>();
  /** every access token handed out, for searching logs and history */
  readonly issued: string[] = [];
  tokenRequests = 0;
  introspections = 0;
  accessTtlSeconds = 3600;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<OAuthProvider> {
    const server = http.createServer();
    const provider = new OAuthProvider(server);
    server.on('request', (req, res) => provider.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(testEnv.oauth2Port(), '127.0.0.1', () => resolve());
    });
    return provider;
  }

  get tokenEndpoint(): string {
    return `http://127.0.0.1:${testEnv.oauth2Port()}/token`;
  }

  /** A refresh token for the user, as the provider's consent flow would give the admin. */
  grant(username: string): string {
    const token = `rt-${randomBytes(16).toString('hex')}`;
    this.grants.set(token, { username, revoked: false });
    return token;
  }

  revoke(refreshToken: string): void {
    const grant = this.grants.get(refreshToken);
    if (grant) grant.revoked = true;
  }

  /** Every access token handed out so far stops working at the server (expired or revoked there). */
  invalidateAccessTokens(): void {
    for (const token of this.access.values()) token.valid = false;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const reply = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.url === '/introspect') {
        this.introspections++;
        const token = this.access.get(form.get('token') ?? '');
        return reply(200, token?.valid ? { active: true, username: token.username } : { active: false });
      }
      if (req.url !== '/token') return reply(404, { error: 'not_found' });
      this.tokenRequests++;
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
        return reply(401, { error: 'invalid_client' });
      }
      const grant = this.grants.get(form.get('refresh_token') ?? '');
      if (form.get('grant_type') !== 'refresh_token' || !grant || grant.revoked) {
        return reply(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
      }
      const accessToken = `at-${randomBytes(16).toString('hex')}`;
      this.access.set(accessToken, { username: grant.username, valid: true });
      this.issued.push(accessToken);
      return reply(200, { access_token: accessToken, token_type: 'Bearer', expires_in: this.accessTtlSeconds });
    });
  }
}
