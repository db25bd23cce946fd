import { Hono } from 'hono';
import { PROMETHEUS_CONTENT_TYPE } from '../../core/prometheus-text';
import type { Pool } from '../../db/pool';
import { tokenOf } from '../auth';
import { ApiError } from '../http-errors';
import { providerList } from '../provider-presets';
import * as res from '../schemas/service';
import { handle, ok, resource, type Reply } from '../route-contract';

const prometheusText = (description: string): Reply => ({ media: PROMETHEUS_CONTENT_TYPE, description });

/** What the admin page shows beside the API's data: where the Temporal UI is (null: no links to it). */
export interface AdminUiConfig {
  temporalUiUrl: string | null;
  temporalNamespace: string;
}

/** Health, the document, metrics and what the admin page asks first: registered with their full paths at their places in app.ts. */
export const service = resource({
  mount: '',
  tag: { name: 'Service', description: 'Health and this description; no token needed' },
  routes: {
    health: {
      method: 'get',
      path: '/health',
      operationId: 'health',
      summary: 'Whether the API and PostgreSQL answer',
      access: { public: true },
      responses: { 200: ok(res.health) },
    },
    openApiDocument: {
      method: 'get',
      path: '/api/openapi.json',
      operationId: 'openApiDocument',
      summary: 'This document',
      description: 'Public, like the page at /api/docs that shows it: it describes the API and holds no data.',
      access: { public: true },
      responses: { 200: ok(res.openApiDocument) },
    },
    metrics: {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary:
        'Prometheus metrics: messages, bytes and cycles by protocol and outcome, errors by kind, quarantine, backlog, accounts by state',
      description: 'A token not limited to some domains, or none with MAILPULL_METRICS_PUBLIC.',
      responses: { 200: prometheusText('the text exposition format') },
    },
    me: {
      method: 'get',
      path: '/api/me',
      operationId: 'me',
      summary: 'The token the request was made with: its id and rights',
      description: 'The admin page asks it to hide what the token may not do.',
      responses: { 200: ok(res.me) },
    },
    uiConfig: {
      method: 'get',
      path: '/api/ui-config',
      operationId: 'uiConfig',
      summary: "Where the Temporal Web UI is, for the admin page's links to each workflow",
      responses: { 200: ok(res.uiConfig) },
    },
    providers: {
      method: 'get',
      path: '/api/providers',
      operationId: 'listProviders',
      summary: 'The provider presets an external account can start from ("provider" on create)',
      description:
        'Hosts, ports, TLS, auth method and OAuth2 scopes of Gmail, Microsoft 365, Yahoo, AOL, iCloud and GMX, and what mailpull does about their limits.',
      responses: { 200: ok(res.providerList) },
    },
  },
});

/** GET /health: load balancers probe it without a token. */
export function healthRoute(pool: Pool): Hono {
  const app = new Hono();
  handle(app, service.routes.health, async (c) => {
    await pool.query('SELECT 1');
    return c.json({ ok: true });
  });
  return app;
}

/** The admin page asks who it signed in as (to hide what the token may not do), where Temporal's UI is, and the presets. */
export function adminPageRoutes(adminUi: AdminUiConfig): Hono {
  const app = new Hono();
  handle(app, service.routes.me, (c) => {
    const token = tokenOf(c.req.raw);
    if (!token) throw new ApiError(401, { error: 'unauthorized', message: 'no token' });
    return c.json(token);
  });
  handle(app, service.routes.uiConfig, (c) => c.json(adminUi));
  handle(app, service.routes.providers, (c) => c.json({ providers: providerList() }));
  return app;
}
