import { type Context } from 'hono';
import { deleteDomain, findDomainByName, getDomain, insertDomain, listDomains, updateDomain } from '../../db/domains';
import type { ApiDeps } from '../deps';
import { conflict as conflictError, deleteOrConflict, invalid, notFound, parse, readJson } from '../http-errors';
import * as res from '../schemas/domains';
import { conflict, created, handle, noContent, ok, requestBody, resource, routerOf } from '../route-contract';
import { createDomain, updateDomain as updateDomainSchema } from '../schemas/domains';
import { idParam } from '../schemas/fields';
import { domainsOf, inScope, notLimited, ownedById } from '../token-scope';
import { configChangedUnder } from '../workflow-control';

const id = idParam('id');

export const domains = resource({
  mount: '/api/domains',
  tag: { name: 'Domains', description: 'Local mail domains' },
  routes: {
    list: {
      method: 'get',
      path: '/',
      operationId: 'listDomains',
      summary: 'The local domains',
      responses: { 200: ok(res.domainList) },
    },
    create: {
      method: 'post',
      path: '/',
      operationId: 'createDomain',
      idempotent: true,
      summary: 'Create a local domain',
      access: { unscoped: notLimited('creating a domain') },
      body: requestBody('CreateDomain', createDomain),
      responses: { 201: created(res.domain), 409: conflict('a domain of that name exists') },
    },
    get: {
      method: 'get',
      path: '/:id',
      operationId: 'getDomain',
      summary: 'One domain',
      params: id,
      responses: { 200: ok(res.domain) },
    },
    update: {
      method: 'patch',
      path: '/:id',
      operationId: 'updateDomain',
      summary: 'Enable, disable or re-route a domain',
      description: 'Signals the workflows of its external accounts.',
      params: id,
      body: requestBody('UpdateDomain', updateDomainSchema),
      responses: { 200: ok(res.domain) },
    },
    delete: {
      method: 'delete',
      path: '/:id',
      operationId: 'deleteDomain',
      summary: 'Delete a domain',
      params: id,
      responses: { 204: noContent('deleted'), 409: conflict('the domain still has accounts') },
    },
  },
});

export function domainRoutes({ pool, workflows }: ApiDeps) {
  const app = routerOf(domains);
  const { routes } = domains;

  const requireTarget = async (c: Context, targetId: string | null | undefined): Promise<void> => {
    if (targetId && !(await inScope(pool, c, 'deliveryTarget', targetId))) {
      throw invalid('deliveryTargetId', `delivery target ${targetId} does not exist`);
    }
  };

  app.use('/:id/*', ownedById(pool, 'domain'));

  handle(app, routes.list, async (c) => c.json({ domains: await listDomains(pool, domainsOf(c)) }));

  handle(app, routes.create, async (c) => {
    const input = parse(createDomain, await readJson(c));
    if (await findDomainByName(pool, input.name)) throw conflictError(`domain ${input.name} already exists`, 'name');
    await requireTarget(c, input.deliveryTargetId);
    return c.json(await insertDomain(pool, input), 201);
  });

  handle(app, routes.get, async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    const domain = await getDomain(pool, domainId);
    if (!domain) throw notFound('domain', domainId);
    return c.json(domain);
  });

  handle(app, routes.update, async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    const patch = parse(updateDomainSchema, await readJson(c));
    await requireTarget(c, patch.deliveryTargetId);
    const domain = await updateDomain(pool, domainId, patch);
    if (!domain) throw notFound('domain', domainId);
    await configChangedUnder(pool, workflows, { domainId });
    return c.json(domain);
  });

  handle(app, routes.delete, async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    await deleteOrConflict(() => deleteDomain(pool, domainId), 'domain', domainId, 'the domain still has accounts; delete them first');
    return c.body(null, 204);
  });

  return app;
}
