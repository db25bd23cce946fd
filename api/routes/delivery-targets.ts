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
import { conflict as conflictError, invalid, notFound, parse, readJson } from '../http-errors';
import * as res from '../schemas/delivery-targets';
import { conflict, created, handle, noContent, ok, requestBody, resource, routerOf } from '../route-contract';
import { createDeliveryTarget, deliveryTargetProblem, updateDeliveryTarget as updateSchema } from '../schemas/delivery-targets';
import { idParam } from '../schemas/fields';
import { domainsOf, notLimited, ownedById } from '../token-scope';

const id = idParam('id');
// Targets are shared: a token limited to some domains sees those its domains deliver through, and changes none.
const shared = { unscoped: notLimited('changing delivery targets') };

export const deliveryTargets = resource({
  mount: '/api/delivery-targets',
  tag: { name: 'Delivery targets', description: 'LMTP, SMTP or IMAP servers mail is delivered into' },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listDeliveryTargets',
      summary: 'The mail servers mailpull delivers into',
      responses: { 200: ok(res.deliveryTargetList) },
    },
    create: {
      method: 'post',
      path: '/',
      operationId: 'createDeliveryTarget',
      idempotent: true,
      summary: 'Create a delivery target',
      description:
        'A delivery target belongs to the domains that deliver through it: a token limited to some sees those its domains use, and changes none.',
      access: shared,
      body: requestBody('CreateDeliveryTarget', createDeliveryTarget),
      responses: { 201: created(res.deliveryTarget), 409: conflict('a target of that name exists') },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getDeliveryTarget',
      summary: 'One delivery target',
      params: id,
      responses: { 200: ok(res.deliveryTarget) },
    },
    update: {
      method: 'patch',
      path: '/:id',
      operationId: 'updateDeliveryTarget',
      summary: 'Change a delivery target',
      description:
        'Every account holding messages runs a cycle now, so a fixed target gets them at once. A new address, TLS setting or ' +
        'username needs the stored password again in the same request (400 naming password otherwise).',
      access: shared,
      params: id,
      body: requestBody('UpdateDeliveryTarget', updateSchema),
      responses: { 200: ok(res.deliveryTarget), 409: conflict('another target has that name') },
    },
    delete: {
      method: 'delete',
      path: '/:id',
      operationId: 'deleteDeliveryTarget',
      summary: 'Delete a delivery target',
      access: shared,
      params: id,
      responses: { 204: noContent('deleted'), 409: conflict('a domain or an external account uses it') },
    },
  },
});

export function deliveryTargetRoutes({ pool, keyring, workflows, networkPolicy }: ApiDeps) {
  const app = routerOf(deliveryTargets);
  const { routes } = deliveryTargets;

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
    if (other && other.id !== stored?.id) throw conflictError(`delivery target ${settings.name} already exists`, 'name');
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

  app.use('/:id/*', ownedById(pool, 'deliveryTarget'));

  handle(app, routes.list, async (c) => c.json({ deliveryTargets: await listTargets(pool, domainsOf(c)) }));

  handle(app, routes.create, async (c) => {
    const { password, port, imapLogin, ...input } = parse(createDeliveryTarget, await readJson(c));
    const settings: DeliveryTargetSettings = {
      ...input,
      port: input.socketPath !== null ? null : (port ?? defaultPort(input.kind, input.tlsMode)),
      imapLogin: input.kind === 'imap' ? (imapLogin ?? 'master') : (imapLogin ?? null),
    };
    return c.json(await current(await save(null, settings, password)), 201);
  });

  handle(app, routes.get, async (c) => {
    const { id: targetId } = parse(id, c.req.param());
    return c.json(await current(targetId));
  });

  handle(app, routes.update, async (c) => {
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

  handle(app, routes.delete, async (c) => {
    const { id: targetId } = parse(id, c.req.param());
    const users = await targetUsers(pool, targetId);
    if (users.domains + users.externalAccounts > 0) {
      throw conflictError(
        `the delivery target is used by ${users.domains} domain(s) and ${users.externalAccounts} external account(s); point them elsewhere first`,
      );
    }
    if (!(await deleteTarget(pool, targetId))) throw notFound('delivery target', targetId);
    return c.body(null, 204);
  });

  return app;
}
