import type { Hono } from 'hono';

/** A registered route's path, as segments; a `:name` segment stands for any one non-empty segment. */
type Pattern = readonly string[];

const segmentsOf = (path: string): string[] => path.replace(/\/+$/, '').split('/');

function matches(pattern: Pattern, segments: readonly string[]): boolean {
  return pattern.length === segments.length && pattern.every((p, i) => (p.startsWith(':') ? segments[i] !== '' : p === segments[i]));
}

/**
 * The methods the app has a route for on a path, in the `Allow` header's order (HEAD with GET, as
 * Hono answers it); empty when no route has the path. Middleware (method ALL, `*` paths) is no route.
 */
export function methodsAllowed(app: Hono): (path: string) => string[] {
  let routes: { method: string; pattern: Pattern }[] | null = null;
  return (path) => {
    // read once the app has all its routes, at the first request that needs it
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({ method: r.method, pattern: segmentsOf(r.path) }));
    const segments = segmentsOf(path);
    const methods = new Set(routes.filter((r) => matches(r.pattern, segments)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
