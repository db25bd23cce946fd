import { Hono } from 'hono';
import type { DeletePolicy } from '../../core/delete-policy';
import { defaultPort, portAfterChange } from '../../core/tls-decision';
import { getAccount } from '../../db/accounts';
import {
  deleteExternalAccount,
  getExternalAccount,
  getStoredExternalAccount,
  insertExternalAccount,
  listExternalAccounts,
  resetIndex,
  updateExternalAccount,
  type ExternalAccount,
  type ExternalAccountInput,
} from '../../db/external-accounts';
import type { ApiDeps } from '../deps';
import { StatusUnavailableError } from '../workflow-control';
import { inTransaction } from '../../db/pool';
import { ApiError, conflict, invalid, notFound, parse, readJson } from '../http-errors';
import {
  createExternalAccount,
  idParam,
  protocolMismatch,
  resetIndex as resetSchema,
  updateExternalAccount as updateSchema,
  type deletePolicy,
} from '../schemas';
import { z } from 'zod';

type ApiDeletePolicy = z.infer<typeof deletePolicy>;

const toPolicy = (p: ApiDeletePolicy): DeletePolicy => (typeof p === 'string' ? { mode: p } : { mode: 'afterDays', days: p.afterDays });
const fromPolicy = (p: DeletePolicy): ApiDeletePolicy => (p.mode === 'afterDays' ? { afterDays: p.days } : p.mode);

/** The API view: no password, only whether one is set. */
function view(account: ExternalAccount) {
  const { intervalSeconds, deletePolicy: policy, ...rest } = account;
  return { ...rest, intervalMinutes: intervalSeconds / 60, deletePolicy: fromPolicy(policy) };
}

export function externalAccountRoutes({ pool, workflows }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

  const requireAccount = async (field: string, accountId: string): Promise<void> => {
    if (!(await getAccount(pool, accountId))) throw invalid(field, `account ${accountId} does not exist`);
  };

  /** Checks what the schema alone cannot: options of the other protocol, the forward-to account. */
  const checkSettings = async (account: ExternalAccountInput): Promise<void> => {
    const mismatch = protocolMismatch(account);
    if (mismatch) throw invalid(mismatch.field, mismatch.message);
    if (account.forwardToAccountId) await requireAccount('forwardToAccountId', account.forwardToAccountId);
  };

  app.get('/', async (c) => {
    const filter = parse(z.object({ ownerAccountId: z.uuid({ message: 'must be a UUID' }).optional() }), c.req.query());
    return c.json({ externalAccounts: (await listExternalAccounts(pool, filter)).map(view) });
  });

  app.post('/', async (c) => {
    const input = parse(createExternalAccount, await readJson(c));
    await requireAccount('ownerAccountId', input.ownerAccountId);
    const { intervalMinutes, deletePolicy: policy, port, ...rest } = input;
    const settings: ExternalAccountInput = {
      ...rest,
      port: port ?? defaultPort(input.protocol, input.tlsMode),
      intervalSeconds: intervalMinutes * 60,
      deletePolicy: toPolicy(policy),
    };
    await checkSettings(settings);
    const created = await insertExternalAccount(pool, settings);
    await workflows.configChanged(created.id);
    return c.json(view(created), 201);
  });

  app.get('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const account = await getExternalAccount(pool, externalId);
    if (!account) throw notFound('external account', externalId);
    return c.json(view(account));
  });

  app.patch('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
    const patch = parse(updateSchema, await readJson(c));
    const stored = await getStoredExternalAccount(pool, externalId);
    if (!stored) throw notFound('external account', externalId);
    const { intervalMinutes, deletePolicy: policy, ...rest } = patch;
    const merged: ExternalAccountInput = {
      ...stored,
      ...rest,
      port: portAfterChange(stored.protocol, stored, patch),
      ...(intervalMinutes !== undefined ? { intervalSeconds: intervalMinutes * 60 } : {}),
      ...(policy !== undefined ? { deletePolicy: toPolicy(policy) } : {}),
    };
    await checkSettings(merged);
    const updated = await updateExternalAccount(pool, externalId, merged);
    if (!updated) throw notFound('external account', externalId);
    await workflows.configChanged(externalId);
    return c.json(view(updated));
  });

  app.delete('/:id', async (c) => {
    const { id: externalId } = parse(id, c.req.param());
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
