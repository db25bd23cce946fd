import { classifyError, MailpullError } from '../core/errors';
import { accessTokenUsable } from '../core/oauth';
import { misboundMessage } from '../core/secret-binding';
import { secretBinding, setAccessExpiry, setReauthorization, type StoredExternalAccount } from '../db/external-accounts';
import { inTransaction, type Pool } from '../db/pool';
import { grantClientSecret, saveSecrets } from '../db/secrets';
import { refreshAccessToken } from '../mail/oauth-token';
import type { Keyring } from '../secrets/keyring';
import { redactValues } from '../secrets/redact';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';
import type { NetworkPolicy } from '../core/network-policy';

export interface CredentialDeps {
  pool: Pool;
  keyring: Keyring;
  /** longest wait for the token endpoint */
  timeoutMs: number;
  /** which addresses the token endpoint may have */
  networkPolicy: NetworkPolicy;
  /** the size limit of accounts that set none of their own */
  defaultMaxMessageBytes: number;
  /** where protocol traces go, when tracing is on */
  trace?: (line: string) => void;
}

/** Logs in to an account's server: with its password, or with an OAuth2 access token kept fresh. */
export interface Credentials {
  /**
   * Calls `connect` with the endpoint and its secret. An XOAUTH2 login the server refuses is tried
   * once more with a newly refreshed token. Errors come back with every secret value masked.
   */
  login<T>(account: StoredExternalAccount, connect: (endpoint: MailboxEndpoint) => Promise<T>): Promise<T>;
}

export function createCredentials({ pool, keyring, timeoutMs, networkPolicy, defaultMaxMessageBytes, trace }: CredentialDeps): Credentials {
  async function accessToken(account: StoredExternalAccount, force: boolean): Promise<string> {
    const current = account.secrets.oauth_access_token;
    if (current && !force && accessTokenUsable(current, account.oauthAccessExpiresAt, new Date())) return current;
    const refreshToken = account.secrets.oauth_refresh_token;
    if (!account.oauth || !refreshToken) {
      const reason = 'reauthorization needed: the account has no OAuth2 refresh token';
      await setReauthorization(pool, account.id, reason);
      throw new MailpullError('reauth', reason);
    }
    const clientSecret = await grantClientSecret(pool, keyring, account.oauth, account.secrets.oauth_client_secret);
    const fresh = await refreshAccessToken(account.oauth, { clientSecret, refreshToken }, { timeoutMs, networkPolicy }).catch(
      async (err: unknown) => {
        if (err instanceof MailpullError && err.kind === 'reauth') await setReauthorization(pool, account.id, err.message);
        throw err;
      },
    );
    await inTransaction(pool, async (tx) => {
      await saveSecrets(
        tx,
        keyring,
        account.id,
        { oauth_access_token: fresh.accessToken, ...(fresh.refreshToken ? { oauth_refresh_token: fresh.refreshToken } : {}) },
        (name) => secretBinding(account, name),
      );
      await setAccessExpiry(tx, account.id, fresh.expiresAt);
    });
    account.secrets.oauth_access_token = fresh.accessToken;
    if (fresh.refreshToken) account.secrets.oauth_refresh_token = fresh.refreshToken;
    account.oauthAccessExpiresAt = fresh.expiresAt;
    return fresh.accessToken;
  }

  async function endpoint(account: StoredExternalAccount, forceRefresh: boolean): Promise<MailboxEndpoint> {
    // A secret given for other settings is not opened (db/secrets.ts) and goes nowhere; an access token is only minted again.
    const misbound = account.misboundSecrets.find((name) => name !== 'oauth_access_token');
    if (misbound) throw new MailpullError('config', misboundMessage(misbound));
    let secret: string;
    if (account.authMethod === 'xoauth2') secret = await accessToken(account, forceRefresh);
    else if (account.secrets.password) secret = account.secrets.password;
    else throw new MailpullError('config', 'the account has no password set');
    const secrets = () => Object.values(account.secrets);
    return {
      protocol: account.protocol,
      host: account.host,
      port: account.port,
      tlsMode: account.tlsMode,
      tlsCa: account.tlsCa,
      allowInvalidCertificates: account.allowInvalidCertificates,
      authMethod: account.authMethod,
      folders: account.folders,
      username: account.username,
      maxMessageBytes: Math.min(account.maxMessageBytes ?? defaultMaxMessageBytes, defaultMaxMessageBytes),
      secret,
      trace: trace && ((line) => trace(`[${account.id}] ${redactValues(line, secrets())}`)),
    };
  }

  const masked = (account: StoredExternalAccount, err: unknown): unknown => {
    const { kind, message } = classifyError(err);
    const clean = redactValues(message, Object.values(account.secrets));
    return clean === message ? err : new MailpullError(kind, clean, { ref: err instanceof MailpullError ? err.ref : undefined });
  };

  return {
    async login(account, connect) {
      try {
        try {
          return await connect(await endpoint(account, false));
        } catch (err) {
          if (account.authMethod !== 'xoauth2' || !(err instanceof MailpullError) || err.kind !== 'auth') throw err;
          return await connect(await endpoint(account, true));
        }
      } catch (err) {
        throw masked(account, err);
      }
    },
  };
}
