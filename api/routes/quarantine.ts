import { Hono, type Context } from 'hono';
import { idsInScope } from '../../db/domain-scope';
import { discardQuarantined, getHeld, getHeldRaw, listHeld, requeueQuarantined, type HeldMeta } from '../../db/held-messages';
import type { ApiDeps } from '../deps';
import { conflict, notFound, parse } from '../http-errors';
import { heldIdParam, quarantineQuery } from '../schemas';
import { domainsOf, messagesRead, ownedById } from '../token-scope';

/**
 * Messages a delivery target refused for good (and, with state=pending, those still waiting for
 * a retry): list, read, download, deliver again, discard.
 */
export function quarantineRoutes({ pool, workflows }: ApiDeps): Hono {
  const app = new Hono();

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

  app.get('/', async (c) => {
    const page = await listHeld(pool, { ...parse(quarantineQuery, c.req.query()), scope: domainsOf(c) });
    return c.json({ ...page, messages: await shown(c, page.messages) });
  });

  app.get('/:id', async (c) => c.json((await shown(c, [await held(parse(heldIdParam, c.req.param()).id)]))[0]));

  app.get('/:id/raw', messagesRead, async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    const raw = await getHeldRaw(pool, id);
    if (!raw) throw notFound('quarantined message', id);
    return c.body(new Uint8Array(raw), 200, { 'Content-Type': 'message/rfc822' });
  });

  /** After fixing the cause: the refused recipients get it on the account's next delivery attempt, started now. */
  app.post('/:id/retry', async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    const message = await held(id);
    if (!(await requeueQuarantined(pool, id))) throw conflict('the message is not in quarantine: it is already waiting for a retry');
    await workflows.connectNow(message.externalAccountId);
    return c.json((await shown(c, [await held(id)]))[0], 202);
  });

  app.delete('/:id', async (c) => {
    const { id } = parse(heldIdParam, c.req.param());
    await held(id);
    if (!(await discardQuarantined(pool, id))) {
      throw conflict('the message is waiting for a retry, not in quarantine; only quarantined messages can be discarded');
    }
    return c.body(null, 204);
  });

  return app;
}
