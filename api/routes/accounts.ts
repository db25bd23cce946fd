import { deleteAccount, getAccount, insertAccount, listAccounts, updateAccount } from '../../db/accounts';
import { findDomainByName } from '../../db/domains';
import { getRawMessage, listMessages } from '../../db/mailbox-store';
import type { ApiDeps } from '../deps';
import { conflict as conflictError, deleteOrConflict, invalid, notFound, parse, readJson } from '../http-errors';
import * as res from '../schemas/accounts';
import { conflict, created, handle, noContent, ok, requestBody, resource, rfc822, routerOf, type Tag } from '../route-contract';
import { accountListQuery, createAccount, messageParams, updateAccount as updateAccountSchema } from '../schemas/accounts';
import { idParam, listQuery } from '../schemas/fields';
import { domainsOf, inScope, ownedById } from '../token-scope';
import { configChangedUnder } from '../workflow-control';

const id = idParam('id');

export const ACCOUNTS_TAG: Tag = { name: 'Accounts', description: 'Local mailboxes and their built-in store' };

export const accounts = resource({
  mount: '/api/accounts',
  tag: ACCOUNTS_TAG,
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listAccounts',
      summary: 'The local accounts',
      query: accountListQuery,
      responses: { 200: ok(res.accountList) },
    },
    create: {
      method: 'post',
      path: '/',
      operationId: 'createAccount',
      idempotent: true,
      summary: 'Create a local account',
      description: 'Its domain must exist.',
      body: requestBody('CreateAccount', createAccount),
      responses: { 201: created(res.account), 409: conflict('an account of that address exists') },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getAccount',
      summary: 'One account',
      params: id,
      responses: { 200: ok(res.account) },
    },
    update: {
      method: 'patch',
      path: '/:id',
      operationId: 'updateAccount',
      summary: 'Enable or disable an account',
      description: 'Signals the workflows of the external accounts it owns.',
      params: id,
      body: requestBody('UpdateAccount', updateAccountSchema),
      responses: { 200: ok(res.account) },
    },
    delete: {
      method: 'delete',
      path: '/:id',
      operationId: 'deleteAccount',
      summary: 'Delete an account',
      params: id,
      responses: { 204: noContent('deleted'), 409: conflict('the account owns external accounts') },
    },
    messages: {
      method: 'get',
      path: '/:id/messages',
      operationId: 'listMessages',
      summary: "The messages in an account's built-in store",
      params: id,
      query: listQuery,
      responses: { 200: ok(res.messagePage) },
    },
    rawMessage: {
      method: 'get',
      path: '/:id/messages/:messageId/raw',
      operationId: 'getRawMessage',
      summary: 'A stored message, byte for byte',
      access: { messagesRead: true },
      params: messageParams,
      responses: { 200: rfc822('the message') },
    },
  },
});

export function accountRoutes({ pool, workflows }: ApiDeps) {
  const app = routerOf(accounts);
  const { routes } = accounts;

  const existing = async (accountId: string) => {
    const account = await getAccount(pool, accountId);
    if (!account) throw notFound('account', accountId);
    return account;
  };

  app.use('/:id/*', ownedById(pool, 'account'));

  handle(app, routes.list, async (c) => {
    const { domainId } = parse(accountListQuery, c.req.query());
    return c.json({ accounts: await listAccounts(pool, { domainId, scope: domainsOf(c) }) });
  });

  handle(app, routes.create, async (c) => {
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
      if ((err as { code?: string }).code === '23505') throw conflictError(`account ${input.address} already exists`, 'address');
      throw err;
    }
  });

  handle(app, routes.get, async (c) => c.json(await existing(parse(id, c.req.param()).id)));

  handle(app, routes.update, async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    const account = await updateAccount(pool, accountId, parse(updateAccountSchema, await readJson(c)));
    if (!account) throw notFound('account', accountId);
    await configChangedUnder(pool, workflows, { accountId });
    return c.json(account);
  });

  handle(app, routes.delete, async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    await deleteOrConflict(
      () => deleteAccount(pool, accountId),
      'account',
      accountId,
      'the account owns external accounts; delete them first',
    );
    return c.body(null, 204);
  });

  handle(app, routes.messages, async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    const page = parse(listQuery, c.req.query());
    await existing(accountId);
    return c.json({ ...(await listMessages(pool, accountId, page)), limit: page.limit, offset: page.offset });
  });

  handle(app, routes.rawMessage, async (c) => {
    const params = parse(messageParams, c.req.param());
    const raw = await getRawMessage(pool, params.id, params.messageId);
    if (!raw) throw notFound('message', params.messageId);
    return c.body(new Uint8Array(raw), 200, { 'Content-Type': 'message/rfc822' });
  });

  return app;
}
