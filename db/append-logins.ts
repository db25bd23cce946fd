import { appendSecretBinding, type AppendSecretName, type BoundTarget } from '../core/secret-binding';
import type { Keyring } from '../secrets/keyring';
import type { DeliveryTarget } from '../core/delivery-target';
import type { OAuthSettings } from '../core/oauth';
import type { Queryable } from './pool';
import { loadAppendSecrets, saveAppendSecrets, type AppendSecrets } from './secrets';

/** A local account's own mailbox behind an OAuth2 APPEND target: who logs in, and where its tokens come from. */
export interface AppendLoginSettings {
  deliveryTargetId: string;
  username: string;
  oauth: OAuthSettings;
}

/** What the API shows: secrets are never read back, only which ones are set. */
export type AppendLogin = AppendLoginSettings & {
  accountId: string;
  secretsSet: AppendSecretName[];
  accessExpiresAt: Date | null;
  /** why no login is tried until a new refresh token is set (the provider answered invalid_grant) */
  reauthorizationReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

/** A login as delivery uses it: secrets bound to this target and login opened, the others only named. */
export type StoredAppendLogin = AppendLogin & { secrets: AppendSecrets; misbound: AppendSecretName[] };

const COLUMNS = `l.account_id AS "accountId", l.delivery_target_id AS "deliveryTargetId", l.username,
  json_build_object('provider', l.oauth_provider, 'tokenEndpoint', l.oauth_token_endpoint, 'clientId', l.oauth_client_id,
                    'scope', l.oauth_scope) AS oauth,
  l.oauth_access_expires_at AS "accessExpiresAt", l.reauthorization_reason AS "reauthorizationReason",
  l.created_at AS "createdAt", l.updated_at AS "updatedAt",
  ARRAY(SELECT s.name FROM append_login_secrets s WHERE s.account_id = l.account_id ORDER BY s.name) AS "secretsSet"`;

const boundTarget = (t: DeliveryTarget): BoundTarget => ({
  kind: t.kind,
  host: t.host,
  port: t.port,
  socketPath: t.socketPath,
  tlsMode: t.tlsMode,
  tlsCa: t.tlsCa,
  allowInvalidCertificates: t.allowInvalidCertificates,
  username: null,
});

/** Where each secret of this login may be sent (core/secret-binding.ts). */
export const appendBinding =
  (target: DeliveryTarget, login: AppendLoginSettings) =>
  (name: AppendSecretName): string =>
    appendSecretBinding(name, boundTarget(target), login.username, login.oauth);

export async function getAppendLogin(db: Queryable, accountId: string): Promise<AppendLogin | null> {
  return (await db.query<AppendLogin>(`SELECT ${COLUMNS} FROM append_logins l WHERE l.account_id = $1`, [accountId])).rows[0] ?? null;
}

/**
 * Sets the account's login (replacing one it had) with a new grant: the refresh token given, the
 * client secret given or removed, any access token of the old grant dropped. Call in a transaction.
 */
export async function putAppendLogin(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  target: DeliveryTarget,
  login: AppendLoginSettings,
  secrets: { refreshToken: string; clientSecret: string | null },
): Promise<void> {
  const { oauth } = login;
  await db.query(
    `INSERT INTO append_logins (account_id, delivery_target_id, username, oauth_provider, oauth_token_endpoint, oauth_client_id, oauth_scope)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (account_id) DO UPDATE SET delivery_target_id = $2, username = $3, oauth_provider = $4, oauth_token_endpoint = $5,
            oauth_client_id = $6, oauth_scope = $7, oauth_access_expires_at = NULL, reauthorization_reason = NULL, updated_at = now()`,
    [accountId, login.deliveryTargetId, login.username, oauth.provider, oauth.tokenEndpoint, oauth.clientId, oauth.scope],
  );
  await saveAppendSecrets(
    db,
    keyring,
    accountId,
    { oauth_refresh_token: secrets.refreshToken, oauth_client_secret: secrets.clientSecret, oauth_access_token: null },
    appendBinding(target, login),
  );
}

export async function deleteAppendLogin(db: Queryable, accountId: string): Promise<boolean> {
  return ((await db.query('DELETE FROM append_logins WHERE account_id = $1', [accountId])).rowCount ?? 0) > 0;
}

/** The login with the secrets bound to `target` opened; null when the account has none for this target. */
export async function loadStoredAppendLogin(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  target: DeliveryTarget,
): Promise<StoredAppendLogin | null> {
  const login = await getAppendLogin(db, accountId);
  if (!login || login.deliveryTargetId !== target.id) return null;
  const { secrets, misbound } = await loadAppendSecrets(db, keyring, accountId, appendBinding(target, login));
  return { ...login, secrets, misbound };
}

/** Keeps a freshly minted access token (and the new refresh token some providers hand out with it). */
export async function saveMintedTokens(
  db: Queryable,
  keyring: Keyring,
  login: StoredAppendLogin,
  target: DeliveryTarget,
  minted: { accessToken: string; refreshToken: string | null; expiresAt: Date },
): Promise<void> {
  await saveAppendSecrets(
    db,
    keyring,
    login.accountId,
    { oauth_access_token: minted.accessToken, ...(minted.refreshToken ? { oauth_refresh_token: minted.refreshToken } : {}) },
    appendBinding(target, login),
  );
  await db.query('UPDATE append_logins SET oauth_access_expires_at = $2 WHERE account_id = $1', [login.accountId, minted.expiresAt]);
}

/** The provider refused the refresh token: no login is tried until a new one is set. */
export async function setAppendReauthorization(db: Queryable, accountId: string, reason: string): Promise<void> {
  await db.query('UPDATE append_logins SET reauthorization_reason = $2, updated_at = now() WHERE account_id = $1', [accountId, reason]);
}
