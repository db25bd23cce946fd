import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Hono } from 'hono';
import { openApiDocument } from './openapi';
import { handle } from './route-contract';
import { service } from './routes/service';

const OPENAPI_PATH = service.routes.openApiDocument.path;
/** Where the docs page lives; its assets are under it. */
export const DOCS_PATH = '/api/docs';
const ASSET_PATH = `${DOCS_PATH}/:file`;
/** The routes served without a token, as the app registers them ("GET /api/docs"). */
export const PUBLIC_DOCS_ROUTES: readonly string[] = [OPENAPI_PATH, DOCS_PATH, ASSET_PATH].map((route) => `GET ${route}`);

const SWAGGER_UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '${OPENAPI_PATH}',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mailpull API</title>
<link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

/** The page's assets: Swagger UI's files from node_modules, and the script that starts it. */
const fromSwaggerUi = (file: string) => async (): Promise<Uint8Array<ArrayBuffer>> =>
  new Uint8Array(await readFile(path.join(SWAGGER_UI_DIR, file)));

const ASSETS: Record<string, { type: string; load: () => Promise<Uint8Array<ArrayBuffer> | string> }> = {
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', load: fromSwaggerUi('swagger-ui-bundle.js') },
  'swagger-ui.css': { type: 'text/css; charset=utf-8', load: fromSwaggerUi('swagger-ui.css') },
  'favicon-32x32.png': { type: 'image/png', load: fromSwaggerUi('favicon-32x32.png') },
  'init.js': { type: 'text/javascript; charset=utf-8', load: () => Promise.resolve(INIT_SCRIPT) },
};

/**
 * GET /api/openapi.json and the Swagger UI page at /api/docs, served without a token: they
 * describe the API and hold no data. Nothing is loaded from elsewhere.
 */
export function apiDocsRoutes(): Hono {
  const app = new Hono();
  const document = JSON.stringify(openApiDocument());
  const loaded = new Map<string, Promise<Uint8Array<ArrayBuffer> | string>>();

  handle(app, service.routes.openApiDocument, (c) => c.body(document, 200, { 'Content-Type': 'application/json' }));
  app.get(DOCS_PATH, (c) => c.html(PAGE));
  app.get(ASSET_PATH, async (c) => {
    const file = c.req.param('file');
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!asset) return c.json({ error: 'not_found', message: `no asset ${file}` }, 404);
    let content = loaded.get(file);
    if (!content) {
      content = asset.load();
      loaded.set(file, content);
    }
    return c.body(await content, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600' });
  });
  return app;
}
