import { sameMailbox } from '../core/mailbox-identity';
import { rebindMessage, rebinding, SECRET_FIELDS } from '../core/secret-binding';
import type { NetworkPolicy } from '../core/network-policy';
import type { OAuthSettings } from '../core/oauth';
import { isInScope, type DomainScope } from '../db/domain-scope';
import {
  getExternalAccountSettings,
  insertExternalAccount,
  secretBinding,
  setAccessExpiry,
  setReauthorization,
  updateExternalAccount,
  type ExternalAccountSettings,
} from '../db/external-accounts';
import { inTransaction, type Pool } from '../db/pool';
import { saveSecrets, SECRET_NAMES, secretsSet, type SecretName } from '../db/secrets';
import { resetIndex } from '../db/uid-index';
import { screenHost, urlHost } from '../core/guarded-connect';
import type { Keyring } from '../secrets/keyring';
import { conflict, invalid, notFound } from './http-errors';
import { resolveOAuth } from './oauth-settings';
import { protocolMismatch, type OAuthInput } from './schemas';

export type CredentialInput = { password?: string; oauth?: OAuthInput };
export type StoredForUpdate = { id: string; settings: ExternalAccountSettings; secrets: ReadonlySet<SecretName> };

/** The secrets a create or update writes (null removes one): only those of the account's auth method are kept. */
function secretChanges(authMethod: ExternalAccountSettings['authMethod'], input: CredentialInput, oauthChanged: boolean) {
  const changes: Partial<Record<SecretName, string | null>> = {};
  if (authMethod !== 'xoauth2') {
    changes.password = input.password;
    for (const name of ['oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token'] as const) changes[name] = null;
    return changes;
  }
  changes.password = null;
  changes.oauth_client_secret = input.oauth?.clientSecret;
  changes.oauth_refresh_token = input.oauth?.refreshToken;
  // a token minted for other settings or another grant is not reused
  if (oauthChanged || input.oauth?.refreshToken) changes.oauth_access_token = null;
  return changes;
}

/**
 * Creating and changing external accounts: the checks the schema cannot make, the OAuth2
 * settings, which secrets to keep, and a fresh index when the account points at another mailbox;
 * settings and secrets are written in one transaction.
 */
export function externalAccountService({
  pool,
  keyring,
  scope,
  networkPolicy,
}: {
  pool: Pool;
  keyring: Keyring;
  scope: DomainScope;
  networkPolicy: NetworkPolicy;
}) {
  /** An account outside the token's domains does not exist for it. */
  const requireAccount = async (field: string, accountId: string): Promise<void> => {
    if (!(await isInScope(pool, 'account', accountId, scope))) throw invalid(field, `account ${accountId} does not exist`);
  };

  /** Checks what the schema alone cannot: options of the other protocol, the forward-to account, the OAuth2 settings. */
  const checkSettings = async (
    account: ExternalAccountSettings,
    input: CredentialInput,
    before: ExternalAccountSettings | null,
  ): Promise<void> => {
    const mismatch = protocolMismatch(account);
    if (mismatch) throw invalid(mismatch.field, mismatch.message);
    if (input.oauth && account.authMethod !== 'xoauth2') throw invalid('oauth', 'OAuth2 settings need authMethod xoauth2');
    // one kept from before stays, even if an unscoped token chose it in another domain
    if (account.forwardToAccountId && account.forwardToAccountId !== before?.forwardToAccountId) {
      await requireAccount('forwardToAccountId', account.forwardToAccountId);
    }
    const route = (d: ExternalAccountSettings['delivery']): string => (d.mode === 'target' ? d.targetId : d.mode);
    const deliveryChanged = !before || route(account.delivery) !== route(before.delivery);
    // like the forward-to account, a target kept from before stays
    const targetId = account.delivery.mode === 'target' ? account.delivery.targetId : null;
    if (targetId && deliveryChanged && !(await isInScope(pool, 'deliveryTarget', targetId, scope))) {
      throw invalid('deliveryTarget', `delivery target ${targetId} does not exist`);
    }
    // recipients of every local domain: only a token that sees every domain sends them anywhere
    if (scope !== null && account.mimeRecipients.allDomains) {
      if (!before?.mimeRecipients.allDomains)
        throw invalid('mimeRecipients.allDomains', 'needs a token that is not limited to some domains');
      if (deliveryChanged) {
        throw invalid(
          'deliveryTarget',
          'this account delivers to every local domain (mimeRecipients.allDomains): changing where needs a token that is not limited to some domains',
        );
      }
    }
  };

  /** A new server or token endpoint that resolves to an address the worker would refuse: 400 naming the field. */
  const checkDestinations = async (stored: StoredForUpdate | null, next: ExternalAccountSettings): Promise<void> => {
    if (next.host !== stored?.settings.host) {
      const refused = await screenHost(next.host, networkPolicy);
      if (refused) throw invalid('host', refused);
    }
    const endpoint = next.oauth?.tokenEndpoint;
    if (endpoint && endpoint !== stored?.settings.oauth?.tokenEndpoint) {
      const refused = await screenHost(urlHost(new URL(endpoint)), networkPolicy);
      if (refused) throw invalid('oauth.tokenEndpoint', refused);
    }
  };

  /** Resolves the OAuth2 settings (xoauth2 only) and writes settings and secrets in one transaction. */
  const save = async (stored: StoredForUpdate | null, settings: ExternalAccountSettings, input: CredentialInput): Promise<string> => {
    let oauth: OAuthSettings | null = null;
    if (settings.authMethod === 'xoauth2') {
      const resolved = resolveOAuth(stored?.settings.oauth ?? null, input.oauth ?? {});
      if ('field' in resolved) throw invalid(resolved.field, resolved.message);
      oauth = resolved;
    }
    const next = { ...settings, oauth };
    await checkSettings(next, input, stored?.settings ?? null);
    await checkDestinations(stored, next);
    const oauthChanged = JSON.stringify(stored?.settings.oauth ?? null) !== JSON.stringify(oauth);
    const changes = secretChanges(next.authMethod, input, oauthChanged);
    if (stored) {
      // A secret goes only where it was given: sending it elsewhere takes the secret again.
      const given = new Set(SECRET_NAMES.filter((name) => changes[name] !== undefined));
      const bound = (settings: ExternalAccountSettings) => (name: SecretName) => secretBinding(settings, name);
      const { required, dropped } = rebinding(stored.secrets, given, bound(stored.settings), bound(next));
      if (required.length > 0) throw invalid(SECRET_FIELDS[required[0]], rebindMessage(required[0]));
      for (const name of dropped) changes[name] = null;
    }
    const has = (name: SecretName): boolean => (changes[name] === undefined ? !!stored?.secrets.has(name) : changes[name] !== null);
    if (next.authMethod === 'xoauth2' && !has('oauth_refresh_token')) {
      throw invalid(
        'oauth.refreshToken',
        "is required: the refresh token from the provider's consent flow (see docs/operations.md: OAuth2)",
      );
    }
    if (next.authMethod !== 'xoauth2' && !has('password')) throw invalid('password', `is required for authMethod ${next.authMethod}`);
    return inTransaction(pool, async (tx) => {
      const accountId = stored ? stored.id : await insertExternalAccount(tx, next);
      if (stored && !(await updateExternalAccount(tx, stored.id, next))) throw notFound('external account', stored.id);
      // Another mailbox starts a fresh index and delivery generation: nothing learned about the old one may delete there.
      if (stored && !sameMailbox(stored.settings, next) && (await resetIndex(tx, accountId, true)) === 'busy') {
        throw conflict('a collection cycle of this account is running; change the server or username when it has finished');
      }
      await saveSecrets(tx, keyring, accountId, changes, (name) => secretBinding(next, name));
      if (changes.oauth_access_token === null) await setAccessExpiry(tx, accountId, null);
      if (changes.oauth_refresh_token || next.authMethod !== 'xoauth2') await setReauthorization(tx, accountId, null);
      return accountId;
    });
  };

  /** What an update starts from: the stored settings and which secrets are set. */
  const storedForUpdate = async (externalId: string): Promise<StoredForUpdate> => {
    const settings = await getExternalAccountSettings(pool, externalId);
    if (!settings) throw notFound('external account', externalId);
    const secrets = (await secretsSet(pool, [externalId])).get(externalId) ?? new Set<SecretName>();
    return { id: externalId, settings, secrets };
  };

  /** A new refresh token from the provider's consent flow: collection resumes. */
  const setRefreshToken = async (externalId: string, refreshToken: string): Promise<void> => {
    const stored = await storedForUpdate(externalId);
    if (stored.settings.authMethod !== 'xoauth2') throw invalid('authMethod', 'this account does not use xoauth2; set a password instead');
    await save(stored, stored.settings, { oauth: { refreshToken } });
  };

  return { requireAccount, save, storedForUpdate, setRefreshToken };
}
