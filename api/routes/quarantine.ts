import type { Context } from 'hono';
import { idsInScope } from '../../db/domain-scope';
import { discardQuarantined, getHeld, getHeldRaw, listHeld, requeueQuarantined, type HeldMeta } from '../../db/held-messages';
import type { ApiDeps } from '../deps';
import { conflict as conflictError, notFound, parse } from '../http-errors';
import * as res from '../schemas/quarantine';
import { conflict, handle, noContent, ok, resource, rfc822, routerOf } from '../route-contract';
import { heldIdParam, quarantineQuery } from '../schemas/quarantine';
import { domainsOf, ownedById } from '../token-scope';

export const quarantine = resource({
  mount: '/api/quarantine',
  tag: { name: 'Quarantine', description: 'Messages a delivery target refused' },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listQuarantine',
      summary: 'Messages a delivery target refused for good, or (state=pending) that wait for a retry',
      query: quarantineQuery,
      responses: { 200: ok(res.heldPage) },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getQuarantined',
      summary: 'One held message',
      params: heldIdParam,
      responses: { 200: ok(res.heldMessage) },
    },
    raw: {
      method: 'get',
      path: '/:id/raw',
      operationId: 'getQuarantinedRaw',
      summary: 'A held message, byte for byte',
      access: { messagesRead: true },
      params: heldIdParam,
      responses: { 200: rfc822('the message') },
    },
    retry: {
      method: 'post',
      path: '/:id/retry',
      operationId: 'retryQuarantined',
      summary: 'Deliver a quarantined message again',
      description: 'Its refused recipients get it in a cycle that starts now.',
      params: heldIdParam,
      responses: {
        202: { json: res.heldMessage, description: 'the message, now pending' },
        409: conflict('the message is not in quarantine'),
      },
    },
    discard: {
      method: 'delete',
      path: '/:id',
      operationId: 'discardQuarantined',
      summary: 'Discard a quarantined message for good',
      params: heldIdParam,
      responses: { 204: noContent('discarded'), 409: conflict('the message waits for a retry, not in quarantine') },
    },
  },
});

/**
 * Messages a delivery target refused for good (and, with state=pending, those still waiting for
 * a retry): list, read, download, deliver again, discard.
 */
export function quarantineRoutes({ pool, workflows }: ApiDeps) {
  const app = routerOf(quarantine);
  const { routes } = quarantine;

  const held = async (heldId: string) => {
    const message = await getHeld(pool, heldId);
    if (!message) throw notFound('quarantined message', heldId);
    return message;
  };

  /**
   * To a token limited to some domains, the recipients in other domains (of an account that
   * delivers to every local domain, mimeRecipients.allDomains) are left out.
   */
  const shown = async (c: Context, messages: HeldMeta[]): Promise<HeldMeta[]> => {
    const ids = messages.flatMap((m) => m.recipients.map((r) => r.accountId));
    const own = await idsInScope(pool, 'account', ids, domainsOf(c));
    return messages.map((m) => ({ ...m, recipients: m.recipients.filter((r) => own.has(r.accountId)) }));
  };

  app.use('/:id/*', ownedById(pool, 'heldMessage'));

  handle(app, routes.list, async (c) => {
    const page = await listHeld(pool, { ...parse(quarantineQuery, c.req.query()), scope: domainsOf(c) });
    return c.json({ ...page, messages: await shown(c, page.messages) });
  });

  handle(app, routes.get, async (c) => c.json((await shown(c, [await held(parse(heldIdParam, c.req.param()).id)]))[0]));

  handle(app, routes.raw, async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    const raw = await getHeldRaw(pool, id);
    if (!raw) throw notFound('quarantined message', id);
    return c.body(new Uint8Array(raw), 200, { 'Content-Type': 'message/rfc822' });
  });

  /** After fixing the cause: the refused recipients get it on the account's next delivery attempt, started now. */
  handle(app, routes.retry, async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    const message = await held(id);
    if (!(await requeueQuarantined(pool, id))) throw conflictError('the message is not in quarantine: it is already waiting for a retry');
    await workflows.connectNow(message.externalAccountId);
    return c.json((await shown(c, [await held(id)]))[0], 202);
  });

  handle(app, routes.discard, async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    await held(id);
    if (!(await discardQuarantined(pool, id))) {
      throw conflictError('the message is waiting for a retry, not in quarantine; only quarantined messages can be discarded');
    }
    return c.body(null, 204);
  });

  return app;
}
