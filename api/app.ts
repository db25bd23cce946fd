import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { every } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { DEFAULT_API_AUTH_FAILURE_LIMIT } from '../core/config';
import { log as processLog } from '../core/log';
import { RateLimiter } from '../core/rate-limit';
import type { ApiDeps } from './deps';
import { auditChanges } from './audit';
import { audit, auditRoutes } from './routes/audit';
import { adminPage } from './admin-page';
import { requireToken } from './auth';
import { apiDocsRoutes } from './docs-routes';
import { ApiError } from './http-errors';
import { handle } from './route-contract';
import { idempotentCreates } from './idempotency';
import { metricsHandler } from './metrics';
import { methodsAllowed } from './method-not-allowed';
import { logRequests } from './request-log';
import { accountRoutes, accounts } from './routes/accounts';
import { appendLoginRoutes, appendLogins } from './routes/append-logins';
import { deliveryTargetRoutes, deliveryTargets } from './routes/delivery-targets';
import { domainRoutes, domains } from './routes/domains';
import { externalAccountRoutes, externalAccounts } from './routes/external-accounts';
import { oauth as oauthResource, oauthCallbackRoute, oauthRoutes } from './routes/oauth';
import { CREATE_PATHS } from './routes';
import { quarantine, quarantineRoutes } from './routes/quarantine';
import { adminPageRoutes, healthRoute, service, type AdminUiConfig } from './routes/service';
import { webhookRoutes, webhooks } from './routes/webhooks';
import { notLimited, unscopedOnly } from './token-scope';

export function createApp(
  deps: ApiDeps & { adminUi?: AdminUiConfig },
  log: (line: string) => void = (line) => processLog.error(line),
  options: { metricsPublic?: boolean; authLog?: (line: string) => void } = {},
): Hono {
  const app = new Hono();
  const adminUi = deps.adminUi ?? { temporalUiUrl: null, temporalNamespace: 'default' };
  const tokenRequired = requireToken(
    deps.pool,
    {
      perToken: new RateLimiter(deps.limits.requestsPerMinute),
      failuresPerClient: new RateLimiter(deps.limits.authFailuresPerMinute ?? DEFAULT_API_AUTH_FAILURE_LIMIT),
    },
    options.authLog ?? ((line) => processLog.warn(line)),
  );
  app.use('*', logRequests(processLog));

  app.route('/', healthRoute(deps.pool));
  // public like /health: the description of the API and its docs page
  app.route('/', apiDocsRoutes());
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
  // An answer given before the body was read (a missing object, a bad path, no token) still takes
  // the body first: the Node adapter drops a connection whose body is left unread for 500 ms, and
  // the client then sees a broken connection instead of the answer.
  app.use('/api/*', async (c, next) => {
    await next();
    if (c.req.raw.body && !c.req.raw.bodyUsed) await c.req.raw.arrayBuffer().catch(() => undefined);
  });
  app.use(adminPage());
  const oauth = { ...deps, publicUrl: deps.publicUrl ?? null };
  // the provider sends the browser back here, without an API token: the state names the sign-in
  app.route('/', oauthCallbackRoute(oauth));
  // every account's counts: a token not limited to some domains, unless MAILPULL_METRICS_PUBLIC
  const metricsAccess: MiddlewareHandler = options.metricsPublic
    ? (_c, next) => next()
    : every(tokenRequired, unscopedOnly(notLimited('the metrics of every account')));
  app.use('/metrics', metricsAccess);
  handle(app, service.routes.metrics, metricsHandler(deps.pool));
  // after /health, which load balancers probe without a token, the admin page and /metrics
  app.use('*', tokenRequired);
  // before the audit: an answer given again is no second change
  const idempotent = idempotentCreates(deps.pool, deps.keyring);
  for (const path of CREATE_PATHS) app.use(path, idempotent);
  app.use('/api/*', auditChanges(deps.pool, log));
  app.route('/', adminPageRoutes(adminUi));
  app.route(domains.mount, domainRoutes(deps));
  app.route(accounts.mount, accountRoutes(deps));
  app.route(appendLogins.mount, appendLoginRoutes(deps));
  app.route(externalAccounts.mount, externalAccountRoutes(deps));
  app.route(deliveryTargets.mount, deliveryTargetRoutes(deps));
  app.route(quarantine.mount, quarantineRoutes(deps));
  app.route(audit.mount, auditRoutes(deps.pool));
  app.route(webhooks.mount, webhookRoutes(deps));
  app.route(oauthResource.mount, oauthRoutes(oauth));

  const allowed = methodsAllowed(app);
  app.notFound((c) => {
    const methods = allowed(c.req.path);
    if (methods.length === 0) return c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404);
    return c.json({ error: 'method_not_allowed', message: `${c.req.path} answers ${methods.join(', ')}, not ${c.req.method}` }, 405, {
      Allow: methods.join(', '),
    });
  });
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body, err.status, err.headers);
    if (err instanceof HTTPException) return c.json({ error: 'http_error', message: err.message }, err.status);
    log(`mailpull api: ${c.req.method} ${c.req.path} failed: ${err.message}`);
    return c.json({ error: 'internal', message: 'internal error; see the API log' }, 500);
  });
  return app;
}
