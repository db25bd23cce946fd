import { getAccount } from '../../db/accounts';
import { deleteAppendLogin, getAppendLogin, type AppendLogin } from '../../db/append-logins';
import { screenHost, urlHost } from '../../core/guarded-connect';
import { appendLoginTarget, linkAppendLogin } from '../append-login-link';
import type { ApiDeps } from '../deps';
import { invalid, notFound, parse, readJson } from '../http-errors';
import { resolveOAuth } from '../oauth-settings';
import * as res from '../schemas/append-logins';
import { handle, noContent, ok, requestBody, resource, routerOf } from '../route-contract';
import { setAppendLogin } from '../schemas/append-logins';
import { idParam } from '../schemas/fields';
import { ACCOUNTS_TAG } from './accounts';
import { domainsOf, ownedById } from '../token-scope';

/** The API view: secrets are never shown, only whether each is set. */
function view(login: AppendLogin) {
  const { secretsSet, accessExpiresAt, oauth, ...rest } = login;
  return {
    ...rest,
    oauth: {
      ...oauth,
      clientSecretSet: secretsSet.includes('oauth_client_secret'),
      refreshTokenSet: secretsSet.includes('oauth_refresh_token'),
      accessTokenExpiresAt: accessExpiresAt,
    },
  };
}

const id = idParam('id');

export const appendLogins = resource({
  mount: '/api/accounts',
  tag: ACCOUNTS_TAG,
  routes: {
    get: {
      method: 'get',
      path: '/:id/append-login',
      operationId: 'getAppendLogin',
      summary: "The account's own mailbox for IMAP targets with imapLogin oauth",
      params: id,
      responses: { 200: ok(res.appendLogin) },
    },
    set: {
      method: 'put',
      path: '/:id/append-login',
      operationId: 'setAppendLogin',
      summary: "Link the account's own mailbox (XOAUTH2) for IMAP APPEND",
      description:
        'An IMAP target with imapLogin "oauth" logs in as each recipient with the login its local account links here: the user and an ' +
        "OAuth2 grant (refresh token; endpoint and scope default from the provider). The tokens are sealed bound to the target's server, " +
        'the user and the token endpoint and client; setting it again replaces the grant and clears "reauthorization needed". Messages ' +
        'held for the account go out at their next attempt.',
      params: id,
      body: requestBody('SetAppendLogin', setAppendLogin),
      responses: { 200: ok(res.appendLogin) },
    },
    delete: {
      method: 'delete',
      path: '/:id/append-login',
      operationId: 'deleteAppendLogin',
      summary: "Unlink the account's own mailbox",
      params: id,
      responses: { 204: noContent('unlinked') },
    },
  },
});

/**
 * A local account's own mailbox for IMAP APPEND targets with imapLogin "oauth" (Gmail, Microsoft
 * 365, any IMAP server with XOAUTH2): who logs in and the OAuth2 grant, under /api/accounts/:id.
 */
export function appendLoginRoutes({ pool, keyring, networkPolicy }: ApiDeps) {
  const app = routerOf(appendLogins);
  const { routes } = appendLogins;
  app.use('/:id/*', ownedById(pool, 'account'));

  const existing = async (accountId: string): Promise<AppendLogin> => {
    const login = await getAppendLogin(pool, accountId);
    if (!login) throw notFound('APPEND login of account', accountId);
    return login;
  };

  handle(app, routes.get, async (c) => c.json(view(await existing(parse(id, c.req.param()).id))));

  /** Links (or re-links, after a revoked grant) the account's mailbox: held messages go out at their next attempt. */
  handle(app, routes.set, async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    if (!(await getAccount(pool, accountId))) throw notFound('account', accountId);
    const input = parse(setAppendLogin, await readJson(c));
    const target = await appendLoginTarget(pool, input.deliveryTargetId, domainsOf(c));
    const oauth = resolveOAuth(null, input.oauth);
    if ('field' in oauth) throw invalid(oauth.field, oauth.message);
    const refused = await screenHost(urlHost(new URL(oauth.tokenEndpoint)), networkPolicy);
    if (refused) throw invalid('oauth.tokenEndpoint', refused);
    await linkAppendLogin(
      { pool, keyring },
      accountId,
      target,
      { username: input.username, oauth },
      { refreshToken: input.oauth.refreshToken, clientSecret: input.oauth.clientSecret ?? null },
    );
    return c.json(view(await existing(accountId)));
  });

  handle(app, routes.delete, async (c) => {
    const { id: accountId } = parse(id, c.req.param());
    if (!(await deleteAppendLogin(pool, accountId))) throw notFound('APPEND login of account', accountId);
    return c.body(null, 204);
  });

  return app;
}
