import type { OAuthApp } from '../core/oauth-apps';
import type { OAuthProvider } from '../core/oauth';
import type { Queryable } from './pool';

interface Row {
  provider: OAuthProvider;
  client_id: string;
  tenant: string | null;
  issuer: string | null;
  authorization_endpoint: string;
  token_endpoint: string;
  device_authorization_endpoint: string | null;
  scope: string;
  source: 'api' | 'env';
}

const toApp = (r: Row): OAuthApp => ({
  provider: r.provider,
  clientId: r.client_id,
  tenant: r.tenant,
  issuer: r.issuer,
  authorizationEndpoint: r.authorization_endpoint,
  tokenEndpoint: r.token_endpoint,
  deviceAuthorizationEndpoint: r.device_authorization_endpoint,
  scope: r.scope,
  source: r.source,
});

export async function listOAuthApps(db: Queryable): Promise<OAuthApp[]> {
  const { rows } = await db.query<Row>('SELECT * FROM oauth_apps ORDER BY provider');
  return rows.map(toApp);
}

export async function getOAuthApp(db: Queryable, provider: OAuthProvider): Promise<OAuthApp | null> {
  const { rows } = await db.query<Row>('SELECT * FROM oauth_apps WHERE provider = $1', [provider]);
  return rows[0] ? toApp(rows[0]) : null;
}

/** Creates or replaces the provider's app. */
export async function saveOAuthApp(db: Queryable, app: OAuthApp): Promise<void> {
  await db.query(
    `INSERT INTO oauth_apps (provider, client_id, tenant, issuer, authorization_endpoint, token_endpoint, device_authorization_endpoint, scope, source)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (provider) DO UPDATE SET client_id = $2, tenant = $3, issuer = $4, authorization_endpoint = $5, token_endpoint = $6,
       device_authorization_endpoint = $7, scope = $8, source = $9, updated_at = now()`,
    [
      app.provider,
      app.clientId,
      app.tenant,
      app.issuer,
      app.authorizationEndpoint,
      app.tokenEndpoint,
      app.deviceAuthorizationEndpoint,
      app.scope,
      app.source,
    ],
  );
}

export async function deleteOAuthApp(db: Queryable, provider: OAuthProvider): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM oauth_apps WHERE provider = $1', [provider]);
  return (rowCount ?? 0) > 0;
}
