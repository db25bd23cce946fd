import { MailpullError } from '../core/errors';
import { accessTokenUsable } from '../core/oauth';
import { loadStoredAppendLogin, saveMintedTokens, setAppendReauthorization, type StoredAppendLogin } from '../db/append-logins';
import type { StoredDeliveryTarget } from '../core/delivery-target';
import { inTransaction, type Pool } from '../db/pool';
import { grantClientSecret } from '../db/secrets';
import { refreshAccessToken } from '../mail/oauth-token';
import type { AppendCredentials } from '../mail/targets/target-client';
import type { NetworkPolicy } from '../core/network-policy';
import type { Keyring } from '../secrets/keyring';

const relink = (accountId: string): string =>
  `link it again: the account's "Link … mailbox" sign-in (admin page, mailpull accounts link-mailbox) or PUT /api/accounts/${accountId}/append-login`;

/**
 * The local accounts' XOAUTH2 logins for IMAP targets with imapLogin "oauth": read from
 * PostgreSQL at each login, the access token refreshed when it is about to expire (or was refused),
 * and a revoked grant recorded so no login is tried with it again until the account is linked anew.
 */
export function createAppendCredentials(deps: {
  pool: Pool;
  keyring: Keyring;
  timeoutMs: number;
  networkPolicy: NetworkPolicy;
}): AppendCredentials {
  const { pool, keyring } = deps;

  const mint = async (login: StoredAppendLogin, target: StoredDeliveryTarget): Promise<string> => {
    const refreshToken = login.secrets.oauth_refresh_token;
    if (!refreshToken)
      throw new MailpullError('reauth', `the APPEND login of this account has no refresh token; ${relink(login.accountId)}`);
    const clientSecret = await grantClientSecret(pool, keyring, login.oauth, login.secrets.oauth_client_secret);
    const fresh = await refreshAccessToken(
      login.oauth,
      { clientSecret, refreshToken },
      { timeoutMs: deps.timeoutMs, networkPolicy: deps.networkPolicy },
    ).catch(async (err: unknown) => {
      if (err instanceof MailpullError && err.kind === 'reauth') {
        await setAppendReauthorization(pool, login.accountId, err.message);
        throw new MailpullError('reauth', `${err.message}; ${relink(login.accountId)}`);
      }
      throw err;
    });
    await inTransaction(pool, (tx) => saveMintedTokens(tx, keyring, login, target, fresh));
    return fresh.accessToken;
  };

  return {
    async accessFor(target, accountId, fresh) {
      const login = await loadStoredAppendLogin(pool, keyring, accountId, target);
      if (!login) {
        throw new MailpullError(
          'config',
          `the recipient's local account has no APPEND login for target "${target.name}"; ${relink(accountId)}`,
        );
      }
      if (login.reauthorizationReason) throw new MailpullError('reauth', `${login.reauthorizationReason}; ${relink(accountId)}`);
      // a token given for another target, user or token endpoint goes nowhere; an access token is only minted again
      if (login.misbound.some((name) => name !== 'oauth_access_token')) {
        throw new MailpullError(
          'config',
          `the APPEND login's tokens were given for another server or token endpoint; ${relink(accountId)}`,
        );
      }
      const current = login.secrets.oauth_access_token;
      const accessToken =
        !fresh && current && accessTokenUsable(current, login.accessExpiresAt, new Date()) ? current : await mint(login, target);
      return { username: login.username, accessToken };
    },
  };
}
