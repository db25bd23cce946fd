import { Hono, type Context } from 'hono';
import { returnWith } from '../../core/oauth-apps';
import { parse, readJson, invalid } from '../http-errors';
import { signIns, oauthApps, type OAuthDeps } from '../oauth-service';
import { idParam } from '../schemas/fields';
import { completeSignIn, createSignIn, oauthProviderParam, saveOAuthApp } from '../schemas/oauth';
import { domainsOf, notLimited, unscopedOnly } from '../token-scope';

/** Where the request came to: the redirect URI when no MAILPULL_PUBLIC_URL says otherwise. */
const originOf = (c: Context): string => new URL(c.req.url).origin;

/** /api/oauth: the installation's OAuth apps and the sign-ins. */
export function oauthRoutes(deps: OAuthDeps): Hono {
  const app = new Hono();
  const apps = oauthApps(deps);
  const flows = signIns(deps);

  app.get('/apps', async (c) => {
    const list = await Promise.all((await apps.list()).map(apps.view));
    return c.json({ redirectUri: `${(deps.publicUrl ?? originOf(c)).replace(/\/+$/, '')}/oauth/callback`, apps: list });
  });
  app.put('/apps/:provider', unscopedOnly(notLimited('the OAuth apps of the installation')), async (c) => {
    const { provider } = parse(oauthProviderParam, c.req.param());
    const input = parse(saveOAuthApp, await readJson(c));
    return c.json(await apps.view(await apps.save(provider, input, 'api')));
  });
  app.delete('/apps/:provider', unscopedOnly(notLimited('the OAuth apps of the installation')), async (c) => {
    const { provider } = parse(oauthProviderParam, c.req.param());
    await apps.remove(provider);
    return c.body(null, 204);
  });

  app.post('/sessions', async (c) => {
    const input = parse(createSignIn, await readJson(c));
    return c.json(await flows.start(input, domainsOf(c), originOf(c)), 201);
  });
  app.get('/sessions/:id', async (c) => {
    const { id } = parse(idParam('id'), c.req.param());
    return c.json(await flows.view(id, domainsOf(c)));
  });
  /** The loopback flow: the CLI hands on the provider's redirect to its own address. */
  app.post('/sessions/:id/callback', async (c) => {
    const { id } = parse(idParam('id'), c.req.param());
    // a sign-in of another domain answers as a missing one, whatever the body
    await flows.view(id, domainsOf(c));
    const { callbackUrl } = parse(completeSignIn, await readJson(c));
    let query: URLSearchParams;
    try {
      query = new URL(callbackUrl).searchParams;
    } catch {
      throw invalid('callbackUrl', 'must be the URL the provider redirected to');
    }
    const outcome = await flows.answer(query, id);
    if (outcome.error && !outcome.session) throw invalid('callbackUrl', outcome.error);
    return c.json(await flows.view(id, domainsOf(c)));
  });
  return app;
}

const page = (title: string, text: string): string =>
  `<!doctype html><meta charset="utf-8"><title>mailpull: ${title}</title><h1>${title}</h1><p>${text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')}</p><p><a href="/">mailpull</a></p>`;

/**
 * GET /oauth/callback, where the provider sends the browser back: no API token (the browser has
 * none); the state names the sign-in, once. The browser then returns to the admin page with the
 * outcome in the query.
 */
export function oauthCallbackRoute(deps: OAuthDeps): Hono {
  const app = new Hono();
  const flows = signIns(deps);
  app.get('/oauth/callback', async (c) => {
    const outcome = await flows.answer(new URL(c.req.url).searchParams, null);
    const returnTo = outcome.session?.returnTo;
    if (!returnTo) return c.html(page('Sign-in failed', outcome.error ?? 'this sign-in returns nowhere'), 400);
    const result: Record<string, string> = outcome.error
      ? { oauth: 'failed', message: outcome.error.slice(0, 500) }
      : { oauth: 'done', account: outcome.accountId ?? '' };
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    return c.redirect(returnWith(returnTo, result), 303);
  });
  return app;
}
