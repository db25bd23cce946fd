import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { MiddlewareHandler } from 'hono';

/** The admin page's files (web/, built into dist/web beside the API), by the path they are served at. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

// The page loads only its own script and style and talks only to this API.
const HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/**
 * Serves the admin page at / without a token: it holds no data and no secret; all it shows it
 * asks the API for, with the token the operator signs in with. The files are read once, here.
 */
export function adminPage(dir = path.resolve(__dirname, '../web')): MiddlewareHandler {
  const served = new Map(
    Object.entries(FILES).map(([urlPath, { file, type }]) => {
      const body = readFileSync(path.join(dir, file));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      return [urlPath, { body, gzipped: gzipSync(body, { level: 9 }), type, etag }] as const;
    }),
  );
  return async (c, next) => {
    const file = c.req.method === 'GET' ? served.get(c.req.path) : undefined;
    if (!file) return next();
    const headers: Record<string, string> = { ...HEADERS, 'Content-Type': file.type, ETag: file.etag, Vary: 'Accept-Encoding' };
    if (c.req.header('if-none-match') === file.etag) return c.body(null, 304, headers);
    if (!(c.req.header('accept-encoding') ?? '').includes('gzip')) return c.body(new Uint8Array(file.body), 200, headers);
    return c.body(new Uint8Array(file.gzipped), 200, { ...headers, 'Content-Encoding': 'gzip' });
  };
}
