import { Hono, type Context } from 'hono';
import { deleteDomain, findDomainByName, getDomain, insertDomain, listDomains, updateDomain } from '../../db/domains';
import type { ApiDeps } from '../deps';
import { conflict, deleteOrConflict, invalid, notFound, parse, readJson } from '../http-errors';
import { createDomain, idParam, updateDomain as updateDomainSchema } from '../schemas';
import { domainsOf, inScope, ownedById, unscopedOnly } from '../token-scope';
import { configChangedUnder } from '../workflow-control';

export function domainRoutes({ pool, workflows }: ApiDeps): Hono {
  const app = new Hono();
  const id = idParam('id');

  const requireTarget = async (c: Context, targetId: string | null | undefined): Promise<void> => {
    if (targetId && !(await inScope(pool, c, 'deliveryTarget', targetId))) {
      throw invalid('deliveryTargetId', `delivery target ${targetId} does not exist`);
    }
  };

  app.use('/:id/*', ownedById(pool, 'domain'));

  app.get('/', async (c) => c.json({ domains: await listDomains(pool, domainsOf(c)) }));

  app.post('/', unscopedOnly('creating a domain'), async (c) => {
    const input = parse(createDomain, await readJson(c));
    if (await findDomainByName(pool, input.name)) throw conflict(`domain ${input.name} already exists`, 'name');
    await requireTarget(c, input.deliveryTargetId);
    return c.json(await insertDomain(pool, input), 201);
  });

  app.get('/:id', async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    const domain = await getDomain(pool, domainId);
    if (!domain) throw notFound('domain', domainId);
    return c.json(domain);
  });

  app.patch('/:id', async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    const patch = parse(updateDomainSchema, await readJson(c));
    await requireTarget(c, patch.deliveryTargetId);
    const domain = await updateDomain(pool, domainId, patch);
    if (!domain) throw notFound('domain', domainId);
    await configChangedUnder(pool, workflows, { domainId });
    return c.json(domain);
  });

  app.delete('/:id', async (c) => {
    const { id: domainId } = parse(id, c.req.param());
    await deleteOrConflict(() => deleteDomain(pool, domainId), 'domain', domainId, 'the domain still has accounts; delete them first');
    return c.body(null, 204);
  });

  return app;
}
