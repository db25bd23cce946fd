import { Hono } from 'hono';
import { deleteAccount, getAccount, insertAccount, listAccounts, updateAccount } from '../../db/accounts';
import { findDomainByName } from '../../db/domains';
import { getRawMessage, listMessages } from '../../db/mailbox-store';
import type { ApiDeps } from '../deps';
import { conflict, deleteOrConflict, invalid, notFound, parse, readJson } from '../http-errors';
import { accountListQuery, createAccount, idParam, listQuery, messageParams, updateAccount as updateAccountSchema } from '../schemas';
import { domainsOf, inScope, messagesRead, ownedById } from '../token-scope';
import { configChangedUnder } from '../workflow-control';

export function accountRoutes({ pool, workflows }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

  const existing = async (accountId: string) => {
    const account = await getAccount(pool, accountId);
    if (!account) throw notFound('account', accountId);
    return account;
  };

  app.use('/:id/*', ownedById(pool, 'account'));

  app.get('/', async (c) => {
    const { domainId } = parse(accountListQuery, c.req.query());
    return c.json({ accounts: await listAccounts(pool, { domainId, scope: domainsOf(c) }) });
  });

  app.post('/', async (c) => {
    const input = parse(createAccount, await readJson(c));
    const domainName = input.address.split('@')[1];
    const domain = await findDomainByName(pool, domainName);
    // a domain outside the token's is answered as a missing one
    if (!domain || !(await inScope(pool, c, 'domain', domain.id))) {
      throw invalid('address', `${domainName} is not a local domain; create the domain first`);
    }
    try {
      return c.json(await insertAccount(pool, { domainId: domain.id, address: input.address, enabled: input.enabled }), 201);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(`account ${input.address} already exists`, 'address');
      throw err;
    }
  });

  app.get('/:id', async (c) => c.json(await existing(parse(id, c.req.param()).id)));

  app.patch('/:id', async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    const account = await updateAccount(pool, accountId, parse(updateAccountSchema, await readJson(c)));
    if (!account) throw notFound('account', accountId);
    await configChangedUnder(pool, workflows, { accountId });
    return c.json(account);
  });

  app.delete('/:id', async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    await deleteOrConflict(
      () => deleteAccount(pool, accountId),
      'account',
      accountId,
      'the account owns external accounts; delete them first',
    );
    return c.body(null, 204);
  });

  app.get('/:id/messages', async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    const page = parse(listQuery, c.req.query());
    await existing(accountId);
    return c.json({ ...(await listMessages(pool, accountId, page)), limit: page.limit, offset: page.offset });
  });

  app.get('/:id/messages/:messageId/raw', messagesRead, async (c) => {
    const params = parse(messageParams, c.req.param());
    const raw = await getRawMessage(pool, params.id, params.messageId);
    if (!raw) throw notFound('message', params.messageId);
    return c.body(new Uint8Array(raw), 200, { 'Content-Type': 'message/rfc822' });
  });

  return app;
}
