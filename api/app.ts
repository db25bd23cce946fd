import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { RateLimiter } from '../core/rate-limit';
import type { ApiDeps } from './deps';
import { auditChanges, auditRoutes } from './audit';
import { requireToken } from './auth';
import { apiDocsRoutes } from './docs-routes';
import { ApiError } from './http-errors';
import { accountRoutes } from './routes/accounts';
import { deliveryTargetRoutes } from './routes/delivery-targets';
import { domainRoutes } from './routes/domains';
import { externalAccountRoutes } from './routes/external-accounts';
import { quarantineRoutes } from './routes/quarantine';
import { webhookRoutes } from './routes/webhooks';

export function createApp(deps: ApiDeps, log: (line: string) => void = console.error): Hono {
  const app = new Hono();

  app.get('/health', async (c) => {
    await deps.pool.query('SELECT 1');
    return c.json({ ok: true });
  });
  // public like /health: the description of the API and its docs page
  app.route('/api', apiDocsRoutes());
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: deps.limits.maxBodyBytes,
      onError: (c) =>
        c.json(
          { error: 'payload_too_large', message: `the request body is larger than ${deps.limits.maxBodyBytes} bytes`, field: 'body' },
          413,
        ),
    }),
  );
  // after /health, which load balancers probe without a token
  app.use('*', requireToken(deps.pool, new RateLimiter(deps.limits.requestsPerMinute)));
  app.use('/api/*', auditChanges(deps.pool, log));
  app.route('/api/domains', domainRoutes(deps));
  app.route('/api/accounts', accountRoutes(deps));
  app.route('/api/external-accounts', externalAccountRoutes(deps));
  app.route('/api/delivery-targets', deliveryTargetRoutes(deps));
  app.route('/api/quarantine', quarantineRoutes(deps));
  app.route('/api/audit', auditRoutes(deps.pool));
  app.route('/api/webhooks', webhookRoutes(deps));

  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body, err.status, err.headers);
    if (err instanceof HTTPException) return c.json({ error: 'http_error', message: err.message }, err.status);
    log(`mailpull api: ${c.req.method} ${c.req.path} failed: ${err.message}`);
    return c.json({ error: 'internal', message: 'internal error; see the API log' }, 500);
  });
  return app;
}
