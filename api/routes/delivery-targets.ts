import { Hono } from 'hono';
import {
  deleteTarget,
  findTargetByName,
  getTarget,
  insertTarget,
  listTargets,
  targetUsers,
  touchTarget,
  updateTarget,
  settingsOf,
} from '../../db/delivery-targets';
import type { DeliveryTarget, DeliveryTargetSettings } from '../../core/delivery-target';
import { decideSocketPath } from '../../core/network-policy';
import { TARGET_REBIND_MESSAGE, targetPasswordBinding } from '../../core/secret-binding';
import { defaultPort } from '../../core/tls-decision';
import { screenHost } from '../../core/guarded-connect';
import { accountsHoldingMessages } from '../../db/held-messages';
import { inTransaction } from '../../db/pool';
import { saveTargetPassword } from '../../db/secrets';
import type { ApiDeps } from '../deps';
import { conflict, invalid, notFound, parse, readJson } from '../http-errors';
import { createDeliveryTarget, deliveryTargetProblem, idParam, updateDeliveryTarget as updateSchema } from '../schemas';
import { domainsOf, notLimited, ownedById, unscopedOnly } from '../token-scope';

export function deliveryTargetRoutes({ pool, keyring, workflows, networkPolicy }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

  /** A new host or socket the worker would refuse to connect to: 400 naming the field. */
  const checkDestination = async (stored: DeliveryTarget | null, settings: DeliveryTargetSettings): Promise<void> => {
    if (settings.host !== null && settings.host !== stored?.host) {
      const refused = await screenHost(settings.host, networkPolicy);
      if (refused) throw invalid('host', refused);
    }
    if (settings.socketPath !== null && settings.socketPath !== stored?.socketPath) {
      const decision = decideSocketPath(networkPolicy, settings.socketPath);
      if (!decision.allowed) throw invalid('socketPath', decision.reason);
    }
  };

  /** Checks, then writes settings and password (undefined keeps it, null removes it) in one transaction. */
  const save = async (
    stored: DeliveryTarget | null,
    settings: DeliveryTargetSettings,
    password: string | null | undefined,
  ): Promise<string> => {
    // the stored password goes only where it was given: elsewhere takes it again
    if (stored?.passwordSet && password === undefined && targetPasswordBinding(stored) !== targetPasswordBinding(settings)) {
      throw invalid('password', TARGET_REBIND_MESSAGE);
    }
    const passwordSet = password === undefined ? !!stored?.passwordSet : password !== null;
    const problem = deliveryTargetProblem({ ...settings, passwordSet });
    if (problem) throw invalid(problem.field, problem.message);
    await checkDestination(stored, settings);
    const other = await findTargetByName(pool, settings.name);
    if (other && other.id !== stored?.id) throw conflict(`delivery target ${settings.name} already exists`, 'name');
    return inTransaction(pool, async (tx) => {
      const targetId = stored ? stored.id : await insertTarget(tx, settings);
      if (stored && !(await updateTarget(tx, stored.id, settings))) throw notFound('delivery target', stored.id);
      if (password !== undefined) {
        await saveTargetPassword(tx, keyring, targetId, password, targetPasswordBinding(settings));
        await touchTarget(tx, targetId);
      }
      return targetId;
    });
  };

  const current = async (targetId: string): Promise<DeliveryTarget> => {
    const target = await getTarget(pool, targetId);
    if (!target) throw notFound('delivery target', targetId);
    return target;
  };

  // Targets are shared: a token limited to some domains sees those its domains deliver through, and changes none.
  app.use('/:id/*', ownedById(pool, 'deliveryTarget'));
  const shared = unscopedOnly(notLimited('changing delivery targets'));

  app.get('/', async (c) => c.json({ deliveryTargets: await listTargets(pool, domainsOf(c)) }));

  app.post('/', shared, async (c) => {
    const { password, port, imapLogin, ...input } = parse(createDeliveryTarget, await readJson(c));
    const settings: DeliveryTargetSettings = {
      ...input,
      port: input.socketPath !== null ? null : (port ?? defaultPort(input.kind, input.tlsMode)),
      imapLogin: input.kind === 'imap' ? (imapLogin ?? 'master') : (imapLogin ?? null),
    };
    return c.json(await current(await save(null, settings, password)), 201);
  });

  app.get('/:id', async (c) => {
    const { id: targetId } = parse(id, c.req.param());
    return c.json(await current(targetId));
  });

  app.patch('/:id', shared, async (c) => {
    const { id: targetId } = parse(id, c.req.param());
    const { password, ...patch } = parse(updateSchema, await readJson(c));
    const stored = await current(targetId);
    const merged: DeliveryTargetSettings = { ...settingsOf(stored), ...patch };
    // Moving between a socket and host:port replaces the other address.
    if (patch.socketPath) merged.host = patch.host ?? null;
    if (patch.host) merged.socketPath = patch.socketPath ?? null;
    merged.port = merged.host === null ? null : (merged.port ?? defaultPort(merged.kind, merged.tlsMode));
    await save(stored, merged, password);
    // A fixed target takes what waits for it now, not at each account's next retry.
    for (const externalId of await accountsHoldingMessages(pool)) await workflows.connectNow(externalId);
    return c.json(await current(targetId));
  });

  app.delete('/:id', shared, async (c) => {
    const { id: targetId } = parse(id, c.req.param());
    const users = await targetUsers(pool, targetId);
    if (users.domains + users.externalAccounts > 0) {
      throw conflict(
        `the delivery target is used by ${users.domains} domain(s) and ${users.externalAccounts} external account(s); point them elsewhere first`,
      );
    }
    if (!(await deleteTarget(pool, targetId))) throw notFound('delivery target', targetId);
    return c.body(null, 204);
  });

  return app;
}
