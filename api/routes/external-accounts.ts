import { Hono } from 'hono';
import type { DeletePolicy } from '../../core/delete-policy';
import type { DeliveryChoice } from '../../core/delivery-routing';
import { getTarget } from '../../db/delivery-targets';
import { sameMailbox } from '../../core/mailbox-identity';
import { defaultPort, portAfterChange } from '../../core/tls-decision';
import { getAccount } from '../../db/accounts';
import {
  deleteExternalAccount,
  getExternalAccount,
  getExternalAccountSettings,
  insertExternalAccount,
  listExternalAccounts,
  resetIndex,
  setAccessExpiry,
  setReauthorization,
  updateExternalAccount,
  type ExternalAccount,
  type ExternalAccountSettings,
  type OAuthSettings,
} from '../../db/external-accounts';
import { backlogOf } from '../../db/held-messages';
import { saveSecrets, secretsSet, type SecretName } from '../../db/secrets';
import { resolveOAuth } from '../oauth-settings';
import type { ApiDeps } from '../deps';
import { StatusUnavailableError } from '../workflow-control';
import { inTransaction } from '../../db/pool';
import { ApiError, conflict, invalid, notFound, parse, readJson } from '../http-errors';
import {
  createExternalAccount,
  deleteExternalAccountQuery as deleteQuery,
  idParam,
  protocolMismatch,
  resetIndex as resetSchema,
  setRefreshToken,
  type OAuthInput,
  updateExternalAccount as updateSchema,
  type deletePolicy,
} from '../schemas';
import { z } from 'zod';

type ApiDeletePolicy = z.infer<typeof deletePolicy>;

const toPolicy = (p: ApiDeletePolicy): DeletePolicy => (typeof p === 'string' ? { mode: p } : { mode: 'afterDays', days: p.afterDays });
const fromPolicy = (p: DeletePolicy): ApiDeletePolicy => (p.mode === 'afterDays' ? { afterDays: p.days } : p.mode);

/** null: the recipients' domains decide; 'store'; or a delivery target id */
type ApiDeliveryTarget = string | null;
const toDelivery = (t: ApiDeliveryTarget): DeliveryChoice =>
  t === null ? { mode: 'domain' } : t === 'store' ? { mode: 'store' } : { mode: 'target', targetId: t };
const fromDelivery = (d: DeliveryChoice): ApiDeliveryTarget => (d.mode === 'domain' ? null : d.mode === 'store' ? 'store' : d.targetId);

/** The API view: secrets are never shown, only whether each is set. */
function view(account: ExternalAccount) {
  const { intervalSeconds, deletePolicy: policy, secretsSet, oauth, oauthAccessExpiresAt, delivery, ...rest } = account;
  const set = new Set(secretsSet);
  return {
    ...rest,
    deliveryTarget: fromDelivery(delivery),
    intervalMinutes: intervalSeconds / 60,
    deletePolicy: fromPolicy(policy),
    passwordSet: set.has('password'),
    oauth: oauth && {
      ...oauth,
      clientSecretSet: set.has('oauth_client_secret'),
      refreshTokenSet: set.has('oauth_refresh_token'),
      accessTokenExpiresAt: oauthAccessExpiresAt,
    },
  };
}

type CredentialInput = { password?: string; oauth?: OAuthInput };
type StoredForUpdate = { id: string; settings: ExternalAccountSettings; secrets: ReadonlySet<SecretName> };

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

export function externalAccountRoutes({ pool, keyring, workflows }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

  const requireAccount = async (field: string, accountId: string): Promise<void> => {
    if (!(await getAccount(pool, accountId))) throw invalid(field, `account ${accountId} does not exist`);
  };

  /** Checks what the schema alone cannot: options of the other protocol, the forward-to account, the OAuth2 settings. */
  const checkSettings = async (account: ExternalAccountSettings, input: CredentialInput): Promise<void> => {
    const mismatch = protocolMismatch(account);
    if (mismatch) throw invalid(mismatch.field, mismatch.message);
    if (input.oauth && account.authMethod !== 'xoauth2') throw invalid('oauth', 'OAuth2 settings need authMethod xoauth2');
    if (account.forwardToAccountId) await requireAccount('forwardToAccountId', account.forwardToAccountId);
    if (account.delivery.mode === 'target' && !(await getTarget(pool, account.delivery.targetId))) {
      throw invalid('deliveryTarget', `delivery target ${account.delivery.targetId} does not exist`);
    }
  };

  /** Resolves the OAuth2 settings (xoauth2 only) and writes settings and secrets in one transaction. */
  const save = async (
    stored: StoredForUpdate | null,
    settings: ExternalAccountSettings,
    input: CredentialInput,
  ): Promise<string> => {
    let oauth: OAuthSettings | null = null;
    if (settings.authMethod === 'xoauth2') {
      const resolved = resolveOAuth(stored?.settings.oauth ?? null, input.oauth ?? {});
      if ('field' in resolved) throw invalid(resolved.field, resolved.message);
      oauth = resolved;
    }
    const next = { ...settings, oauth };
    await checkSettings(next, input);
    const oauthChanged = JSON.stringify(stored?.settings.oauth ?? null) !== JSON.stringify(oauth);
    const changes = secretChanges(next.authMethod, input, oauthChanged);
    const has = (name: SecretName): boolean => (changes[name] === undefined ? !!stored?.secrets.has(name) : changes[name] !== null);
    if (next.authMethod === 'xoauth2' && !has('oauth_refresh_token')) {
      throw invalid('oauth.refreshToken', 'is required: the refresh token from the provider\'s consent flow (see README: OAuth2)');
    }
    if (next.authMethod !== 'xoauth2' && !has('password')) throw invalid('password', `is required for authMethod ${next.authMethod}`);
    return inTransaction(pool, async (tx) => {
      const accountId = stored ? stored.id : await insertExternalAccount(tx, next);
      if (stored && !(await updateExternalAccount(tx, stored.id, next))) throw notFound('external account', stored.id);
      // Another mailbox starts a fresh index and delivery generation: nothing learned about the old one may delete there.
      if (stored && !sameMailbox(stored.settings, next) && (await resetIndex(tx, accountId, true)) === 'busy') {
        throw conflict('a collection cycle of this account is running; change the server or username when it has finished');
      }
      await saveSecrets(tx, keyring, accountId, changes);
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

  const current = async (externalId: string): Promise<ExternalAccount> => {
    const account = await getExternalAccount(pool, externalId);
    if (!account) throw notFound('external account', externalId);
    return account;
  };

  app.get('/', async (c) => {
    const filter = parse(z.object({ ownerAccountId: z.uuid({ message: 'must be a UUID' }).optional() }), c.req.query());
    return c.json({ externalAccounts: (await listExternalAccounts(pool, filter)).map(view) });
  });

  app.post('/', async (c) => {
    const input = parse(createExternalAccount, await readJson(c));
    await requireAccount('ownerAccountId', input.ownerAccountId);
    const { intervalMinutes, deletePolicy: policy, port, password, oauth, deliveryTarget, ...rest } = input;
    const settings: ExternalAccountSettings = {
      ...rest,
      port: port ?? defaultPort(input.protocol, input.tlsMode),
      intervalSeconds: intervalMinutes * 60,
      deletePolicy: toPolicy(policy),
      oauth: null,
      delivery: toDelivery(deliveryTarget),
    };
    const created = await save(null, settings, { password, oauth });
    await workflows.configChanged(created);
    return c.json(view(await current(created)), 201);
  });

  app.get('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    return c.json(view(await current(externalId)));
  });

  app.patch('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const patch = parse(updateSchema, await readJson(c));
    const stored = await storedForUpdate(externalId);
    const { settings } = stored;
    const { intervalMinutes, deletePolicy: policy, password, oauth, deliveryTarget, ...rest } = patch;
    const merged: ExternalAccountSettings = {
      ...settings,
      ...rest,
      port: portAfterChange(settings.protocol, settings, patch),
      ...(intervalMinutes !== undefined ? { intervalSeconds: intervalMinutes * 60 } : {}),
      ...(policy !== undefined ? { deletePolicy: toPolicy(policy) } : {}),
      ...(deliveryTarget !== undefined ? { delivery: toDelivery(deliveryTarget) } : {}),
    };
    await save(stored, merged, { password, oauth });
    await workflows.configChanged(externalId);
    return c.json(view(await current(externalId)));
  });

  /** The admin obtained a new refresh token (the provider's consent flow): collection resumes. */
  app.put('/:id/oauth/refresh-token', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const { refreshToken } = parse(setRefreshToken, await readJson(c));
    const stored = await storedForUpdate(externalId);
    if (stored.settings.authMethod !== 'xoauth2') {
      throw invalid('authMethod', 'this account does not use xoauth2; set a password instead');
    }
    await save(stored, stored.settings, { oauth: { refreshToken } });
    await workflows.configChanged(externalId);
    return c.json(view(await current(externalId)));
  });

  app.delete('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const { discardQuarantine } = parse(deleteQuery, c.req.query());
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    // Quarantined messages are gone from the remote server: they are the only copy.
    const { quarantined } = await backlogOf(pool, externalId);
    if (quarantined > 0 && !discardQuarantine) {
      throw new ApiError(409, {
        error: 'quarantine_not_empty',
        message: `${quarantined} quarantined message(s) of this account exist nowhere else; retry or discard them first (GET /api/quarantine?externalAccountId=${externalId}), or delete with ?discardQuarantine=true`,
      });
    }
    if (!(await deleteExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    await workflows.stop(externalId);
    return c.body(null, 204);
  });

  app.post('/:id/connect-now', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    await workflows.connectNow(externalId);
    return c.json({ accepted: true }, 202);
  });

  app.post('/:id/reset-index', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const { force } = parse(resetSchema, await readJson(c));
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    const forgotten = await inTransaction(pool, (tx) => resetIndex(tx, externalId, force));
    if (forgotten === 'busy') throw conflict('a collection cycle of this account is running; try again when it has finished');
    return c.json({ forgotten, force });
  });

  app.get('/:id/status', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    const status = await workflows.status(externalId).catch((err: unknown) => {
      if (err instanceof StatusUnavailableError) throw new ApiError(503, { error: 'status_unavailable', message: err.message });
      throw err;
    });
    if (!status) {
      throw new ApiError(503, { error: 'not_running', message: `the workflow of external account ${externalId} is not running` });
    }
    return c.json(status);
  });

  return app;
}
