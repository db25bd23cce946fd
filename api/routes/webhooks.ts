import { randomBytes } from 'node:crypto';
import { WEBHOOK_EVENTS, type WebhookEventName } from '../../core/webhook-events';
import { inTransaction } from '../../db/pool';
import { saveWebhookSecret } from '../../db/secrets';
import {
  countWebhooks,
  deleteWebhook,
  getWebhook,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  updateWebhook,
  type Webhook,
} from '../../db/webhooks';
import { screenHost, urlHost } from '../../core/guarded-connect';
import type { ApiDeps } from '../deps';
import { conflict as conflictError, invalid, notFound, parse, readJson } from '../http-errors';
import { conflict, created, handle, noContent, ok, requestBody, resource, routerOf } from '../route-contract';
import { idParam } from '../schemas/fields';
import { notLimited } from '../token-scope';
import {
  createdWebhook,
  createWebhook,
  deliveriesQuery,
  updatedWebhook,
  updateWebhook as updateSchema,
  webhook as webhookSchema,
  webhookDeliveryList,
  webhookList,
} from '../schemas/webhooks';

/** Every event fans out to every webhook that takes it: a handful is plenty. */
export const MAX_WEBHOOKS = 50;

/** The key receivers verify signatures with: the UTF-8 bytes of this text. */
const newSecret = (): string => randomBytes(32).toString('hex');

/** The URL as the WHATWG parser writes it (validated before), the events once each in a fixed order. */
const normalUrl = (url: string): string => new URL(url).href;
const normalEvents = (events: readonly WebhookEventName[]): WebhookEventName[] => WEBHOOK_EVENTS.filter((e) => events.includes(e));

const id = idParam('id');

export const webhooks = resource({
  mount: '/api/webhooks',
  tag: { name: 'Webhooks', description: 'URLs that receive account events, signed with HMAC-SHA256' },
  // Webhooks see every domain's accounts and their URLs may carry tokens: admin tokens only, even to read.
  access: { admin: 'webhooks need an admin token, even to read them', unscoped: notLimited('managing webhooks') },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listWebhooks',
      summary: 'The registered webhooks',
      description: 'Webhooks see every domain: an admin token not limited to some domains, even to read.',
      responses: { 200: ok(webhookList) },
    },
    create: {
      method: 'post',
      path: '/',
      operationId: 'createWebhook',
      idempotent: true,
      summary: 'Register a URL for account events',
      description:
        'The answer shows the signing secret, the only time it is shown. A URL whose host resolves to an address the network policy refuses (MAILPULL_ALLOWED_NETWORKS) answers 400 naming url; a name that does not resolve yet is accepted and checked at each delivery.',
      body: requestBody('CreateWebhook', createWebhook),
      responses: { 201: created(createdWebhook), 409: conflict('there are 50 webhooks already') },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getWebhook',
      summary: 'One webhook',
      params: id,
      responses: { 200: ok(webhookSchema) },
    },
    update: {
      method: 'patch',
      path: '/:id',
      operationId: 'updateWebhook',
      summary: 'Change, enable or disable a webhook, or replace its secret',
      description:
        'A new URL is checked against the network policy as at creation. Deliveries on their way are sent to the new URL; those of a disabled webhook fail.',
      params: id,
      body: requestBody('UpdateWebhook', updateSchema),
      responses: { 200: ok(updatedWebhook) },
    },
    delete: {
      method: 'delete',
      path: '/:id',
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook and its deliveries',
      params: id,
      responses: { 204: noContent('deleted') },
    },
    deliveries: {
      method: 'get',
      path: '/:id/deliveries',
      operationId: 'listWebhookDeliveries',
      summary: "A webhook's deliveries and how each went, newest first",
      params: id,
      query: deliveriesQuery,
      responses: { 200: ok(webhookDeliveryList) },
    },
  },
});

export function webhookRoutes({ pool, keyring, networkPolicy }: ApiDeps) {
  const app = routerOf(webhooks);
  const { routes } = webhooks;

  /** A URL whose host resolves to an address the worker would refuse: 400 naming url (the worker checks again at each POST). */
  const checkUrl = async (url: string): Promise<void> => {
    const refused = await screenHost(urlHost(new URL(url)), networkPolicy);
    if (refused) throw invalid('url', refused);
  };

  const current = async (webhookId: string): Promise<Webhook> => {
    const webhook = await getWebhook(pool, webhookId);
    if (!webhook) throw notFound('webhook', webhookId);
    return webhook;
  };

  handle(app, routes.list, async (c) => c.json({ webhooks: await listWebhooks(pool) }));

  handle(app, routes.create, async (c) => {
    const input = parse(createWebhook, await readJson(c));
    await checkUrl(input.url);
    const secret = newSecret();
    const webhook = await inTransaction(pool, async (tx) => {
      if ((await countWebhooks(tx)) >= MAX_WEBHOOKS) throw conflictError(`there are ${MAX_WEBHOOKS} webhooks already; delete one first`);
      const created = await insertWebhook(tx, { url: normalUrl(input.url), events: normalEvents(input.events), enabled: input.enabled });
      await saveWebhookSecret(tx, keyring, created.id, secret);
      return created;
    });
    return c.json({ ...webhook, secret }, 201);
  });

  handle(app, routes.get, async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    return c.json(await current(webhookId));
  });

  handle(app, routes.update, async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    const { rotateSecret, ...patch } = parse(updateSchema, await readJson(c));
    const stored = await current(webhookId);
    if (patch.url !== undefined && normalUrl(patch.url) !== stored.url) await checkUrl(patch.url);
    const secret = rotateSecret ? newSecret() : undefined;
    const webhook = await inTransaction(pool, async (tx) => {
      const updated = await updateWebhook(tx, webhookId, {
        url: patch.url === undefined ? stored.url : normalUrl(patch.url),
        events: patch.events === undefined ? stored.events : normalEvents(patch.events),
        enabled: patch.enabled ?? stored.enabled,
      });
      if (!updated) throw notFound('webhook', webhookId);
      if (secret) await saveWebhookSecret(tx, keyring, webhookId, secret);
      return updated;
    });
    return c.json(secret ? { ...webhook, secret } : webhook);
  });

  handle(app, routes.delete, async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    if (!(await deleteWebhook(pool, webhookId))) throw notFound('webhook', webhookId);
    return c.body(null, 204);
  });

  handle(app, routes.deliveries, async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    const { limit } = parse(deliveriesQuery, c.req.query());
    await current(webhookId);
    return c.json({ deliveries: await listDeliveries(pool, webhookId, limit) });
  });

  return app;
}
