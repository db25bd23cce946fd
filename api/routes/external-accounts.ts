import type { Context } from 'hono';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../core/config';
import { log } from '../../core/log';
import { portAfterChange } from '../../core/tls-decision';
import {
  deleteExternalAccount,
  getExternalAccount,
  listExternalAccounts,
  type RecordedStatus,
  type ExternalAccount,
  type ExternalAccountSettings,
} from '../../db/external-accounts';
import { idsInScope } from '../../db/domain-scope';
import { backlogOf } from '../../db/held-messages';
import { inTransaction } from '../../db/pool';
import { resetIndex } from '../../db/uid-index';
import type { ApiDeps } from '../deps';
import { externalAccountService } from '../external-account-service';
import { ApiError, conflict as conflictError, invalid, notFound, parse, readJson } from '../http-errors';
import { accountStatus } from '../schemas/account-status';
import { errors } from '../schemas/answers';
import * as res from '../schemas/external-accounts';
import { conflict, created, handle, noContent, ok, requestBody, resource, routerOf } from '../route-contract';
import { decodeCursor, encodeCursor } from '../list-cursor';
import { withProviderPreset } from '../provider-presets';
import { fromDelivery, fromPolicy, newAccountSettings, toDelivery, toPolicy } from '../external-account-fields';
import {
  createExternalAccount,
  deleteExternalAccountQuery as deleteQuery,
  externalAccountListQuery as listQuery,
  resetIndex as resetSchema,
  setRefreshToken,
  updateExternalAccount as updateSchema,
} from '../schemas/external-accounts';
import { idParam } from '../schemas/fields';
import { domainsOf, ownedById } from '../token-scope';
import { StatusUnavailableError } from '../workflow-control';

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

/** What the workflow reported last, kept in Postgres: the list's state and status without asking each workflow. */
function recordedView(recorded: RecordedStatus | null) {
  if (!recorded) return { state: 'new' as const, recordedStatus: null };
  const { phase, lastRun, lastError, nextRunAt, delivery } = recorded.status;
  return {
    state: recorded.state,
    recordedStatus: {
      phase,
      lastRun,
      lastError,
      nextRunAt,
      backlog: delivery.backlog,
      quarantined: delivery.quarantined,
      recordedAt: recorded.at,
    },
  };
}

const id = idParam('id');

export const externalAccounts = resource({
  mount: '/api/external-accounts',
  tag: { name: 'External accounts', description: 'Remote POP3/IMAP mailboxes, each collected by its own workflow' },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listExternalAccounts',
      summary: 'The remote mailboxes mailpull collects',
      query: listQuery,
      responses: { 200: ok(res.externalAccountList) },
    },
    create: {
      method: 'post',
      path: '/',
      operationId: 'createExternalAccount',
      idempotent: true,
      summary: 'Create an external account',
      description:
        'Starts its workflow; when Temporal cannot be reached the account is still created (workflow: starting) and the worker starts its workflow later. Secrets are write-only: answers say only whether each is set.',
      body: requestBody('CreateExternalAccount', createExternalAccount),
      responses: { 201: created(res.createdExternalAccount) },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getExternalAccount',
      summary: 'One external account',
      params: id,
      responses: { 200: ok(res.externalAccount) },
    },
    update: {
      method: 'patch',
      path: '/:id',
      operationId: 'updateExternalAccount',
      summary: 'Change an external account',
      description:
        'Signals its workflow, which runs a cycle at once. A new host, port or username starts a fresh index. A stored secret goes ' +
        'only where it was given: a new server, port, TLS setting or username needs the password (xoauth2: refresh token) again in ' +
        'the same request, a new token endpoint or client id the client secret and refresh token; 400 naming the field otherwise.',
      params: id,
      body: requestBody('UpdateExternalAccount', updateSchema),
      responses: {
        200: ok(res.externalAccount),
        409: conflict('a cycle is running and the change points the account at another mailbox'),
      },
    },
    setRefreshToken: {
      method: 'put',
      path: '/:id/oauth/refresh-token',
      operationId: 'setRefreshToken',
      summary: 'Set a new OAuth2 refresh token',
      description: 'For xoauth2 accounts after the provider revoked access: clears "reauthorization needed" and runs a cycle.',
      params: id,
      body: requestBody('SetRefreshToken', setRefreshToken),
      responses: { 200: ok(res.externalAccount) },
    },
    delete: {
      method: 'delete',
      path: '/:id',
      operationId: 'deleteExternalAccount',
      summary: 'Delete an external account',
      description:
        'Ends its workflow; collected mail stays. Quarantined messages exist nowhere else: discarding them takes discardQuarantine=true.',
      params: id,
      query: deleteQuery,
      responses: {
        204: noContent('deleted'),
        409: { json: errors.quarantineNotEmpty, description: 'the account has quarantined messages' },
      },
    },
    connectNow: {
      method: 'post',
      path: '/:id/connect-now',
      operationId: 'connectNow',
      summary: 'Collect now',
      description: 'A cycle now, or exactly one more after the running one.',
      params: id,
      responses: { 202: { json: res.accepted, description: 'the workflow was asked' } },
    },
    resetIndex: {
      method: 'post',
      path: '/:id/reset-index',
      operationId: 'resetIndex',
      summary: 'Forget which server messages were downloaded',
      description: 'The next cycle treats all as new; messages already stored are not stored again unless force is true.',
      params: id,
      body: requestBody('ResetIndex', resetSchema),
      responses: { 200: ok(res.resetIndexResult), 409: conflict('a cycle is running') },
    },
    status: {
      method: 'get',
      path: '/:id/status',
      operationId: 'getStatus',
      summary: "The workflow's live status",
      params: id,
      responses: {
        200: ok(accountStatus),
        503: { json: errors.unavailable, description: 'the account has no workflow, or no worker answered within 5 s' },
      },
    },
  },
});

/** HTTP only: parsing, the API's names and views; the save logic is in external-account-service.ts. */
export function externalAccountRoutes({ pool, keyring, workflows, networkPolicy, limits }: ApiDeps) {
  const app = routerOf(externalAccounts);
  const { routes } = externalAccounts;

  /** An account's own size limit above the global one would let through what the worker refuses. */
  const globalSizeLimit = limits.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const checkSizeLimit = (bytes: number | null | undefined): void => {
    if (bytes != null && bytes > globalSizeLimit) {
      throw invalid('maxMessageBytes', `must be at most ${globalSizeLimit}, the global limit (MAILPULL_MAX_MESSAGE_BYTES)`);
    }
  };

  /** The service checks the ids a body names against the token's domains. */
  const accounts = (c: Context) => externalAccountService({ pool, keyring, scope: domainsOf(c), networkPolicy });

  const current = async (externalId: string): Promise<ExternalAccount> => {
    const account = await getExternalAccount(pool, externalId);
    if (!account) throw notFound('external account', externalId);
    return account;
  };

  /**
   * To a token limited to some domains, a forward-to account or delivery target outside them (an
   * unscoped token's choice) is shown as absent: no id of another domain's object. Saving keeps it.
   */
  const foreignHidden = async (c: Context, list: ExternalAccount[]): Promise<(account: ExternalAccount) => ExternalAccount> => {
    const scope = domainsOf(c);
    if (scope === null) return (account) => account;
    const forwards = await idsInScope(
      pool,
      'account',
      list.flatMap((a) => a.forwardToAccountId ?? []),
      scope,
    );
    const targets = await idsInScope(
      pool,
      'deliveryTarget',
      list.flatMap((a) => (a.delivery.mode === 'target' ? [a.delivery.targetId] : [])),
      scope,
    );
    return (account) => ({
      ...account,
      forwardToAccountId: account.forwardToAccountId && forwards.has(account.forwardToAccountId) ? account.forwardToAccountId : null,
      delivery: account.delivery.mode === 'target' && !targets.has(account.delivery.targetId) ? { mode: 'domain' } : account.delivery,
    });
  };
  const shown = async (c: Context, externalId: string) => {
    const account = await current(externalId);
    return view((await foreignHidden(c, [account]))(account));
  };

  app.use('/:id/*', ownedById(pool, 'externalAccount'));

  handle(app, routes.list, async (c) => {
    const { cursor, ...filter } = parse(listQuery, c.req.query());
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (after === null) throw invalid('cursor', 'is not a cursor this list gave out');
    const { accounts: page, more } = await listExternalAccounts(pool, { ...filter, after, scope: domainsOf(c) });
    const last = page.at(-1)?.account;
    const hide = await foreignHidden(
      c,
      page.map((p) => p.account),
    );
    return c.json({
      externalAccounts: page.map(({ account, recorded }) => ({ ...view(hide(account)), ...recordedView(recorded) })),
      nextCursor: more && last ? encodeCursor(last) : null,
    });
  });

  handle(app, routes.create, async (c) => {
    const input = parse(createExternalAccount, withProviderPreset(await readJson(c)));
    checkSizeLimit(input.maxMessageBytes);
    await accounts(c).requireAccount('ownerAccountId', input.ownerAccountId);
    const { password, oauth, authMethod, ...fields } = input;
    const created = await accounts(c).save(null, newAccountSettings(fields, authMethod), { password, oauth });
    // The account is saved: without Temporal now, the worker's reconciler starts its workflow later.
    const workflow = await workflows.configChanged(created).then(
      () => 'started' as const,
      (err: unknown) => {
        log.warn(
          `mailpull api: the workflow of new external account ${created} could not be started now, the worker will start it: ${err instanceof Error ? err.message : String(err)}`,
        );
        return 'starting' as const;
      },
    );
    return c.json({ ...(await shown(c, created)), workflow }, 201);
  });

  handle(app, routes.get, async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    return c.json(await shown(c, externalId));
  });

  handle(app, routes.update, async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const patch = parse(updateSchema, await readJson(c));
    checkSizeLimit(patch.maxMessageBytes);
    const stored = await accounts(c).storedForUpdate(externalId);
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
    await accounts(c).save(stored, merged, { password, oauth });
    await workflows.configChanged(externalId);
    return c.json(await shown(c, externalId));
  });

  /** The admin obtained a new refresh token (the provider's consent flow): collection resumes. */
  handle(app, routes.setRefreshToken, async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const { refreshToken } = parse(setRefreshToken, await readJson(c));
    await accounts(c).setRefreshToken(externalId, refreshToken);
    await workflows.configChanged(externalId);
    return c.json(await shown(c, externalId));
  });

  handle(app, routes.delete, async (c) => {
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

  handle(app, routes.connectNow, async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    await workflows.connectNow(externalId);
    return c.json({ accepted: true }, 202);
  });

  handle(app, routes.resetIndex, async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const { force } = parse(resetSchema, await readJson(c));
    if (!(await getExternalAccount(pool, externalId))) throw notFound('external account', externalId);
    const forgotten = await inTransaction(pool, (tx) => resetIndex(tx, externalId, force));
    if (forgotten === 'busy') throw conflictError('a collection cycle of this account is running; try again when it has finished');
    return c.json({ forgotten, force });
  });

  handle(app, routes.status, async (c) => {
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
