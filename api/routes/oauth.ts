import type { Context } from 'hono';
import { returnWith } from '../../core/oauth-apps';
import { parse, readJson, invalid } from '../http-errors';
import { signIns, oauthApps, type OAuthDeps } from '../oauth-service';
import { idParam } from '../schemas/fields';
import * as res from '../schemas/oauth';
import { completeSignIn, createSignIn, oauthProviderParam, saveOAuthApp } from '../schemas/oauth';
import { conflict, created, handle, HTML, noContent, ok, requestBody, resource, routerOf, type Tag } from '../route-contract';
import { domainsOf, notLimited } from '../token-scope';

/** Where the request came to: the redirect URI when no MAILPULL_PUBLIC_URL says otherwise. */
const originOf = (c: Context): string => new URL(c.req.url).origin;

const id = idParam('id');
const installationWide = { unscoped: notLimited('the OAuth apps of the installation') };
const setByEnvironment = 'the app is set by MAILPULL_OAUTH_* environment variables';

const OAUTH_TAG: Tag = {
  name: 'OAuth',
  description: "The installation's OAuth apps, and sign-ins that obtain an OAuth2 grant from the provider",
};

export const oauth = resource({
  mount: '/api/oauth',
  tag: OAUTH_TAG,
  routes: {
    listApps: {
      method: 'get',
      path: '/apps',
      operationId: 'listOAuthApps',
      summary: "The installation's OAuth apps, one per provider, and the redirect URI to register with them",
      responses: { 200: ok(res.oauthAppList) },
    },
    saveApp: {
      method: 'put',
      path: '/apps/:provider',
      operationId: 'saveOAuthApp',
      summary: "Set a provider's OAuth app",
      description:
        "custom: the endpoints come from the issuer's metadata. The client secret is bound to the token endpoint and client id: changing either needs it again (null: a public client).",
      access: installationWide,
      upsert: true,
      params: oauthProviderParam,
      body: requestBody('SaveOAuthApp', saveOAuthApp),
      responses: { 200: ok(res.oauthApp), 409: conflict(setByEnvironment) },
    },
    deleteApp: {
      method: 'delete',
      path: '/apps/:provider',
      operationId: 'deleteOAuthApp',
      summary: "Delete a provider's OAuth app",
      access: installationWide,
      params: oauthProviderParam,
      responses: { 204: noContent('deleted'), 409: conflict(setByEnvironment) },
    },
    startSignIn: {
      method: 'post',
      path: '/sessions',
      operationId: 'startSignIn',
      summary: 'Start a sign-in at the provider',
      description:
        "Exactly one of externalAccountId (an external account signed in again: Reconnect), account (a new external account, created once the provider has answered) or localAccountId (a local account's own mailbox at the provider, where its mail is delivered). With localAccountId: deliveryTargetId, an IMAP target with imapLogin \"oauth\", and username, the mailbox's address at the provider; the grant becomes the account's APPEND login as PUT /api/accounts/{id}/append-login sets it, refreshed with the installation app's client secret.",
      body: requestBody('CreateSignIn', createSignIn),
      responses: { 201: created(res.signInStarted) },
    },
    getSignIn: {
      method: 'get',
      path: '/sessions/:id',
      operationId: 'getSignIn',
      summary: 'How a sign-in went',
      params: id,
      responses: { 200: ok(res.signIn) },
    },
    completeSignIn: {
      method: 'post',
      path: '/sessions/:id/callback',
      operationId: 'completeSignIn',
      summary: "The loopback flow: the provider's redirect, handed on by the CLI",
      params: id,
      body: requestBody('CompleteSignIn', completeSignIn),
      responses: { 200: ok(res.signIn) },
    },
  },
});

export const oauthCallback = resource({
  mount: '',
  tag: OAUTH_TAG,
  routes: {
    callback: {
      method: 'get',
      path: '/oauth/callback',
      operationId: 'oauthCallback',
      summary: 'Where the provider sends the browser back',
      description: 'Without an API token (the browser has none): the state names the sign-in, once.',
      access: { public: true },
      responses: {
        303: {
          description: 'back to the admin page, with oauth=done and account, or oauth=failed and message',
          headers: { Location: 'the page the sign-in returns to' },
        },
        400: { media: HTML, description: 'a page saying why the sign-in failed, when it returns nowhere' },
      },
    },
  },
});

/** /api/oauth: the installation's OAuth apps and the sign-ins. */
export function oauthRoutes(deps: OAuthDeps) {
  const app = routerOf(oauth);
  const { routes } = oauth;
  const apps = oauthApps(deps);
  const flows = signIns(deps);

  handle(app, routes.listApps, async (c) => {
    const list = await Promise.all((await apps.list()).map(apps.view));
    return c.json({ redirectUri: `${(deps.publicUrl ?? originOf(c)).replace(/\/+$/, '')}/oauth/callback`, apps: list });
  });
  handle(app, routes.saveApp, async (c) => {
    const { provider } = parse(oauthProviderParam, c.req.param());
    const input = parse(saveOAuthApp, await readJson(c));
    return c.json(await apps.view(await apps.save(provider, input, 'api')));
  });
  handle(app, routes.deleteApp, async (c) => {
    const { provider } = parse(oauthProviderParam, c.req.param());
    await apps.remove(provider);
    return c.body(null, 204);
  });

  handle(app, routes.startSignIn, async (c) => {
    const input = parse(createSignIn, await readJson(c));
    return c.json(await flows.start(input, domainsOf(c), originOf(c)), 201);
  });
  handle(app, routes.getSignIn, async (c) => {
    const { id: signInId } = parse(id, c.req.param());
    return c.json(await flows.view(signInId, domainsOf(c)));
  });
  /** The loopback flow: the CLI hands on the provider's redirect to its own address. */
  handle(app, routes.completeSignIn, async (c) => {
    const { id: signInId } = parse(id, c.req.param());
    // a sign-in of another domain answers as a missing one, whatever the body
    await flows.view(signInId, domainsOf(c));
    const { callbackUrl } = parse(completeSignIn, await readJson(c));
    let query: URLSearchParams;
    try {
      query = new URL(callbackUrl).searchParams;
    } catch {
      throw invalid('callbackUrl', 'must be the URL the provider redirected to');
    }
    const outcome = await flows.answer(query, signInId);
    if (outcome.error && !outcome.session) throw invalid('callbackUrl', outcome.error);
    return c.json(await flows.view(signInId, domainsOf(c)));
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
export function oauthCallbackRoute(deps: OAuthDeps) {
  const app = routerOf(oauthCallback);
  const flows = signIns(deps);
  handle(app, oauthCallback.routes.callback, async (c) => {
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
