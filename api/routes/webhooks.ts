import { Hono, type MiddlewareHandler } from 'hono';
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
import { tokenOf } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, conflict, invalid, notFound, parse, readJson } from '../http-errors';
import { idParam } from '../schemas';
import { notLimited, unscopedOnly } from '../token-scope';
import { createWebhook, deliveriesQuery, updateWebhook as updateSchema } from '../webhook-schemas';

/** Every event fans out to every webhook that takes it: a handful is plenty. */
export const MAX_WEBHOOKS = 50;

/** The key receivers verify signatures with: the UTF-8 bytes of this text. */
const newSecret = (): string => randomBytes(32).toString('hex');

/** The URL as the WHATWG parser writes it (validated before), the events once each in a fixed order. */
const normalUrl = (url: string): string => new URL(url).href;
const normalEvents = (events: readonly WebhookEventName[]): WebhookEventName[] => WEBHOOK_EVENTS.filter((e) => events.includes(e));

/** Webhooks see every domain's accounts and their URLs may carry tokens: admin tokens only, even to read. */
const adminOnly: MiddlewareHandler = async (c, next) => {
  if (tokenOf(c.req.raw)?.scope !== 'admin') {
    throw new ApiError(403, { error: 'forbidden', message: 'webhooks need an admin token, even to read them' });
  }
  await next();
};

export function webhookRoutes({ pool, keyring, networkPolicy }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

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

  app.use('*', adminOnly, unscopedOnly(notLimited('managing webhooks')));

  app.get('/', async (c) => c.json({ webhooks: await listWebhooks(pool) }));

  app.post('/', async (c) => {
    const input = parse(createWebhook, await readJson(c));
    await checkUrl(input.url);
    const secret = newSecret();
    const webhook = await inTransaction(pool, async (tx) => {
      if ((await countWebhooks(tx)) >= MAX_WEBHOOKS) throw conflict(`there are ${MAX_WEBHOOKS} webhooks already; delete one first`);
      const created = await insertWebhook(tx, { url: normalUrl(input.url), events: normalEvents(input.events), enabled: input.enabled });
      await saveWebhookSecret(tx, keyring, created.id, secret);
      return created;
    });
    return c.json({ ...webhook, secret }, 201);
  });

  app.get('/:id', async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    return c.json(await current(webhookId));
  });

  app.patch('/:id', async (c) => {
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

  app.delete('/:id', async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    if (!(await deleteWebhook(pool, webhookId))) throw notFound('webhook', webhookId);
    return c.body(null, 204);
  });

  app.get('/:id/deliveries', async (c) => {
    const { id: webhookId } = parse(id, c.req.param());
    const { limit } = parse(deliveriesQuery, c.req.query());
    await current(webhookId);
    return c.json({ deliveries: await listDeliveries(pool, webhookId, limit) });
  });

  return app;
}
