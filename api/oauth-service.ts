import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { EnvOAuthApp } from '../core/config';
import { MailpullError } from '../core/errors';
import { log } from '../core/log';
import type { NetworkPolicy } from '../core/network-policy';
import type { OAuthProvider } from '../core/oauth';
import {
  consentParameters,
  defaultSignInScope,
  knownEndpoints,
  loopbackRedirectProblem,
  offersDeviceFlow,
  returnToProblem,
  SIGN_IN_TTL_MS,
  type OAuthApp,
} from '../core/oauth-apps';
import { clientSecretBinding } from '../core/secret-binding';
import { isInScope, type DomainScope } from '../db/domain-scope';
import { deleteOAuthApp, getOAuthApp, listOAuthApps, saveOAuthApp } from '../db/oauth-apps';
import {
  claimSignIn,
  finishSignIn,
  getSignIn,
  insertSignIn,
  signInOfState,
  type SignInPurpose,
  type SignInSession,
} from '../db/oauth-sessions';
import type { Pool } from '../db/pool';
import { inTransaction } from '../db/pool';
import { loadAppClientSecret, saveAppClientSecret } from '../db/secrets';
import { screenHost, urlHost } from '../core/guarded-connect';
import { appClient, consentUrl, discoverEndpoints, exchangeCode, startDevice, type FlowOptions, type Grant } from './oauth-flow';
import type { Keyring } from '../secrets/keyring';
import { appendLoginTarget, linkAppendLogin } from './append-login-link';
import { externalAccountService } from './external-account-service';
import { conflict, invalid, notFound } from './http-errors';
import { newAccountSettings } from './external-account-fields';
import { resolveOAuth } from './oauth-settings';
import type { createSignIn, saveOAuthApp as saveAppSchema, signInAccountFields } from './schemas';
import type { WorkflowControl } from './workflow-control';

/** Longest wait for an authorization server (metadata, device authorization, token exchange). */
const FLOW_TIMEOUT_MS = 30_000;

export interface OAuthDeps {
  pool: Pool;
  keyring: Keyring;
  networkPolicy: NetworkPolicy;
  workflows: WorkflowControl;
  /** where the provider sends the browser back to, as the admin registered it; null: the address the request came to */
  publicUrl: string | null;
}

type AppInput = z.infer<typeof saveAppSchema>;
type SignInInput = z.infer<typeof createSignIn>;

const flowOptions = (networkPolicy: NetworkPolicy): FlowOptions => ({ networkPolicy, timeoutMs: FLOW_TIMEOUT_MS });

/** The installation's OAuth apps: one per provider, set through the API or the environment. */
export function oauthApps({ pool, keyring, networkPolicy }: Pick<OAuthDeps, 'pool' | 'keyring' | 'networkPolicy'>) {
  /** The app as it will be stored: the endpoints fixed (Google, Microsoft by tenant) or from the issuer's metadata. */
  const resolve = async (provider: OAuthProvider, input: AppInput, source: OAuthApp['source']): Promise<OAuthApp> => {
    if (provider !== 'microsoft' && input.tenant !== undefined) throw invalid('tenant', 'is a Microsoft setting');
    if (provider !== 'custom' && input.issuer !== undefined)
      throw invalid('issuer', 'is for provider custom; Google and Microsoft are known');
    let endpoints;
    if (provider === 'custom') {
      if (!input.issuer) throw invalid('issuer', 'is required for provider custom');
      const refused = await screenHost(urlHost(new URL(input.issuer)), networkPolicy);
      if (refused) throw invalid('issuer', refused);
      endpoints = await discoverEndpoints(input.issuer, input.clientId, flowOptions(networkPolicy)).catch((err: unknown) => {
        throw invalid('issuer', err instanceof Error ? err.message : String(err));
      });
      for (const url of [endpoints.authorizationEndpoint, endpoints.tokenEndpoint, endpoints.deviceAuthorizationEndpoint]) {
        const refusedEndpoint = url ? await screenHost(urlHost(new URL(url)), networkPolicy) : null;
        if (refusedEndpoint) throw invalid('issuer', `its metadata names an endpoint the network policy refuses: ${refusedEndpoint}`);
      }
    } else {
      endpoints = knownEndpoints(provider, input.tenant ?? null);
    }
    return {
      provider,
      clientId: input.clientId,
      tenant: provider === 'microsoft' ? (input.tenant ?? 'common') : null,
      issuer: provider === 'custom' ? endpoints.issuer : null,
      authorizationEndpoint: endpoints.authorizationEndpoint,
      tokenEndpoint: endpoints.tokenEndpoint,
      deviceAuthorizationEndpoint: endpoints.deviceAuthorizationEndpoint,
      scope: input.scope ?? defaultSignInScope(provider),
      source,
    };
  };

  /**
   * Creates or replaces a provider's app. The client secret is bound to the token endpoint and
   * client id: changing either needs it again (or null, a public client).
   */
  const save = async (provider: OAuthProvider, input: AppInput, source: OAuthApp['source']): Promise<OAuthApp> => {
    const stored = await getOAuthApp(pool, provider);
    if (stored?.source === 'env' && source === 'api') {
      throw conflict(`the ${provider} app is set by MAILPULL_OAUTH_* environment variables; change it there`, 'provider');
    }
    const app = await resolve(provider, input, source);
    const binding = clientSecretBinding(app);
    const secretStored = stored ? (await loadAppClientSecret(pool, keyring, provider, clientSecretBinding(stored))) !== null : false;
    if (input.clientSecret === undefined && secretStored && stored && clientSecretBinding(stored) !== binding) {
      throw invalid(
        'clientSecret',
        'must be given again with a new client id or token endpoint: the stored secret was given for the old ones (null: a public client)',
      );
    }
    await inTransaction(pool, async (tx) => {
      await saveOAuthApp(tx, app);
      if (input.clientSecret !== undefined) await saveAppClientSecret(tx, keyring, provider, input.clientSecret, binding);
    });
    return app;
  };

  /** What the API shows: the client secret only as whether it is set. */
  const view = async (app: OAuthApp) => {
    const clientSecretSet = (await loadAppClientSecret(pool, keyring, app.provider, clientSecretBinding(app))) !== null;
    return { ...app, deviceFlow: offersDeviceFlow(app, clientSecretSet), clientSecretSet };
  };

  const remove = async (provider: OAuthProvider): Promise<void> => {
    const stored = await getOAuthApp(pool, provider);
    if (!stored) throw notFound('OAuth app', provider);
    if (stored.source === 'env') throw conflict(`the ${provider} app is set by MAILPULL_OAUTH_* environment variables`, 'provider');
    await deleteOAuthApp(pool, provider);
  };

  /**
   * Stores the apps MAILPULL_OAUTH_* variables give (the worker reads them from the database) and
   * removes those the environment no longer gives. An app that cannot be stored is logged, not fatal.
   */
  const applyEnvironment = async (given: readonly EnvOAuthApp[]): Promise<void> => {
    for (const { provider, ...input } of given) {
      await save(provider, input, 'env').catch((err: unknown) => {
        log.error(`mailpull api: the ${provider} OAuth app from MAILPULL_OAUTH_* could not be stored: ${(err as Error).message}`);
      });
    }
    for (const app of await listOAuthApps(pool)) {
      if (app.source === 'env' && !given.some((g) => g.provider === app.provider)) await deleteOAuthApp(pool, app.provider);
    }
  };

  return { save, view, remove, applyEnvironment, list: () => listOAuthApps(pool), get: (p: OAuthProvider) => getOAuthApp(pool, p) };
}

/** The outcome of a callback: where the browser goes next. */
export type CallbackOutcome = { session: SignInSession | null; accountId: string | null; error: string | null };

/**
 * Sign-ins: started by the admin page (browser), the CLI (loopback, device), completed by the
 * provider's redirect or the device grant. Completing one saves the refresh token for what it is
 * for, sealed and bound like any other, and (re)starts the account's collection.
 */
export function signIns(deps: OAuthDeps) {
  const { pool, keyring, networkPolicy, workflows } = deps;
  const apps = oauthApps(deps);

  const configured = async (provider: OAuthProvider): Promise<{ app: OAuthApp; secret: string | null }> => {
    const app = await apps.get(provider);
    if (!app)
      throw invalid('provider', `no ${provider} OAuth app is configured (PUT /api/oauth/apps/${provider}, or MAILPULL_OAUTH_* variables)`);
    return { app, secret: await loadAppClientSecret(pool, keyring, provider, clientSecretBinding(app)) };
  };

  /** What the token is for, checked against the token's domains before anyone is sent to the provider. */
  const purposeOf = async (input: SignInInput, scope: DomainScope): Promise<SignInPurpose> => {
    const given = [input.externalAccountId, input.account, input.localAccountId].filter((v) => v !== undefined).length;
    if (given !== 1)
      throw invalid('externalAccountId', 'give exactly one of externalAccountId, account (a new external account) or localAccountId');
    if (!input.localAccountId) {
      for (const field of ['deliveryTargetId', 'username'] as const) {
        if (input[field] !== undefined) throw invalid(field, "is for localAccountId (a local account's own mailbox)");
      }
    }
    if (input.externalAccountId) {
      if (!(await isInScope(pool, 'externalAccount', input.externalAccountId, scope))) {
        throw invalid('externalAccountId', `external account ${input.externalAccountId} does not exist`);
      }
      return { kind: 'externalAccount', externalAccountId: input.externalAccountId };
    }
    if (input.localAccountId) {
      if (!(await isInScope(pool, 'account', input.localAccountId, scope))) {
        throw invalid('localAccountId', `account ${input.localAccountId} does not exist`);
      }
      if (!input.deliveryTargetId)
        throw invalid('deliveryTargetId', 'is required with localAccountId: the IMAP target the mailbox is behind');
      if (!input.username) throw invalid('username', "is required with localAccountId: the mailbox's address at the provider");
      const target = await appendLoginTarget(pool, input.deliveryTargetId, scope);
      return { kind: 'localMailbox', localAccountId: input.localAccountId, deliveryTargetId: target.id, username: input.username };
    }
    const account = input.account as z.infer<typeof signInAccountFields>;
    if (!(await isInScope(pool, 'account', account.ownerAccountId, scope))) {
      throw invalid('account.ownerAccountId', `account ${account.ownerAccountId} does not exist`);
    }
    const refused = await screenHost(account.host, networkPolicy);
    if (refused) throw invalid('account.host', refused);
    return { kind: 'newExternalAccount', fields: account };
  };

  /** Starts a sign-in: the consent URL (browser, loopback) or the user code and where to enter it (device). */
  const start = async (input: SignInInput, scope: DomainScope, requestOrigin: string) => {
    const { app, secret } = await configured(input.provider);
    const purpose = await purposeOf(input, scope);
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + SIGN_IN_TTL_MS);
    const client = appClient(app, secret, flowOptions(networkPolicy));
    if (input.flow === 'device') {
      if (!offersDeviceFlow(app, secret !== null)) {
        throw invalid(
          'flow',
          `the ${app.provider} app offers no device authorization for mail (Microsoft: only an app without a client secret); use the loopback flow`,
        );
      }
      const device = await startDevice(client, app.scope).catch((err: unknown) => {
        throw invalid('provider', err instanceof Error ? err.message : String(err));
      });
      const deviceExpiry = new Date(Date.now() + Math.min(device.expiresInSeconds * 1000, 30 * 60_000));
      await insertSignIn(pool, keyring, {
        id,
        provider: app.provider,
        flow: 'device',
        purpose,
        state: null,
        codeVerifier: null,
        redirectUri: null,
        returnTo: null,
        tokenDomains: scope,
        expiresAt: deviceExpiry,
      });
      // the device code stays in this process; the session row says how it ended
      // a grant that cannot be saved fails the sign-in too, or the CLI would wait for it until it expires
      void device
        .grant(AbortSignal.timeout(deviceExpiry.getTime() - Date.now()))
        .then((grant) => complete(id, app, grant))
        .catch((err: unknown) => fail(id, err))
        .catch((err: unknown) => log.error(`mailpull api: sign-in ${id} could not be recorded: ${(err as Error).message}`));
      return {
        id,
        flow: 'device' as const,
        userCode: device.userCode,
        verificationUri: device.verificationUri,
        verificationUriComplete: device.verificationUriComplete,
        intervalSeconds: device.intervalSeconds,
        expiresAt: deviceExpiry,
      };
    }
    let redirectUri: string;
    let returnTo: string | null = null;
    if (input.flow === 'loopback') {
      if (!input.redirectUri) throw invalid('redirectUri', 'is required for the loopback flow');
      const problem = loopbackRedirectProblem(input.redirectUri);
      if (problem) throw invalid('redirectUri', problem);
      redirectUri = input.redirectUri;
    } else {
      if (input.redirectUri !== undefined)
        throw invalid('redirectUri', 'is for the loopback flow; the browser flow returns to /oauth/callback');
      returnTo = input.returnTo ?? '/';
      const problem = returnToProblem(returnTo);
      if (problem) throw invalid('returnTo', problem);
      redirectUri = `${(deps.publicUrl ?? requestOrigin).replace(/\/+$/, '')}/oauth/callback`;
    }
    const consent = await consentUrl(client, { redirectUri, scope: app.scope, extra: consentParameters(app.provider) });
    await insertSignIn(pool, keyring, {
      id,
      provider: app.provider,
      flow: input.flow,
      purpose,
      state: consent.state,
      codeVerifier: consent.codeVerifier,
      redirectUri,
      returnTo,
      tokenDomains: scope,
      expiresAt,
    });
    return { id, flow: input.flow, authorizationUrl: consent.url, redirectUri, expiresAt };
  };

  /**
   * The grant becomes the local account's APPEND login, as PUT /api/accounts/:id/append-login sets
   * it; refreshing uses the installation app's client secret, not a copy.
   */
  const linkMailbox = async (
    purpose: Extract<SignInPurpose, { kind: 'localMailbox' }>,
    tokenDomains: DomainScope,
    app: OAuthApp,
    grant: Grant,
  ): Promise<string> => {
    const target = await appendLoginTarget(pool, purpose.deliveryTargetId, tokenDomains).catch((err: unknown) => {
      throw new MailpullError('config', `the delivery target can no longer be linked: ${(err as Error).message}`);
    });
    const oauth = resolveOAuth(null, { provider: app.provider, tokenEndpoint: app.tokenEndpoint, clientId: app.clientId });
    if ('field' in oauth) throw new MailpullError('config', `the ${app.provider} app: ${oauth.field} ${oauth.message}`);
    await linkAppendLogin(
      { pool, keyring },
      purpose.localAccountId,
      target,
      { username: purpose.username, oauth },
      { refreshToken: grant.refreshToken, clientSecret: null },
    );
    return purpose.localAccountId;
  };

  /** Saves the grant for what it is for and starts (or restarts) collection. */
  const complete = async (sessionId: string, app: OAuthApp, grant: Grant): Promise<string> => {
    const session = await getSignIn(pool, sessionId);
    if (!session) throw new MailpullError('config', 'the sign-in was removed');
    const accounts = externalAccountService({ pool, keyring, scope: session.tokenDomains, networkPolicy });
    const oauth = {
      provider: app.provider,
      tokenEndpoint: app.tokenEndpoint,
      clientId: app.clientId,
      clientSecret: null,
      refreshToken: grant.refreshToken,
    };
    let accountId: string;
    const purpose = session.purpose;
    if (purpose.kind === 'localMailbox') {
      accountId = await linkMailbox(purpose, session.tokenDomains, app, grant);
    } else if (purpose.kind === 'externalAccount') {
      const stored = await accounts.storedForUpdate(purpose.externalAccountId);
      // the account's own client secret (if any) is dropped: the app's is used from now on
      await accounts.save(stored, { ...stored.settings, authMethod: 'xoauth2' }, { oauth });
      accountId = stored.id;
    } else {
      const fields = purpose.fields as z.infer<typeof signInAccountFields>;
      accountId = await accounts.save(null, newAccountSettings(fields, 'xoauth2'), { oauth });
    }
    await finishSignIn(pool, sessionId, { status: 'done', accountId });
    if (purpose.kind !== 'localMailbox') {
      await workflows.configChanged(accountId).catch((err: unknown) => {
        log.warn(
          `mailpull api: the workflow of external account ${accountId} could not be signalled now, the worker will start it: ${(err as Error).message}`,
        );
      });
    }
    return accountId;
  };

  const failureMessage = (err: unknown): string => {
    if (err instanceof MailpullError) return err.message;
    const body = (err as { body?: { message?: unknown } }).body;
    if (body && typeof body.message === 'string') return body.message;
    return 'the sign-in could not be completed; see the API log';
  };

  const fail = async (sessionId: string, err: unknown): Promise<string> => {
    const message = failureMessage(err);
    if (!(err instanceof MailpullError) && !(err as { body?: unknown }).body) {
      log.error(`mailpull api: sign-in ${sessionId} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await finishSignIn(pool, sessionId, { status: 'failed', message });
    return message;
  };

  /** The provider's answer at `redirectUri`: exchanges the code (state checked, single use) and completes. */
  const answer = async (query: URLSearchParams, expectedId: string | null): Promise<CallbackOutcome> => {
    const state = query.get('state');
    if (!state) return { session: null, accountId: null, error: 'the provider sent no state' };
    const claimed = await claimSignIn(pool, keyring, { state, id: expectedId });
    if (!claimed) {
      const known = await signInOfState(pool, state);
      const why = !known ? 'this sign-in is unknown' : known.used ? 'this sign-in was already used' : 'this sign-in has expired';
      return { session: known, accountId: null, error: `${why}; start it again` };
    }
    const { session, codeVerifier } = claimed;
    try {
      const providerError = query.get('error');
      if (providerError) {
        const description = query.get('error_description');
        throw new MailpullError(
          'auth',
          `the provider refused the sign-in (${providerError.slice(0, 100)}${description ? `: ${description.slice(0, 300)}` : ''})`,
        );
      }
      if (!session.redirectUri || !codeVerifier) throw new MailpullError('config', 'this sign-in expects no redirect');
      const { app, secret } = await configured(session.provider);
      const callback = new URL(session.redirectUri);
      callback.search = query.toString();
      const grant = await exchangeCode(appClient(app, secret, flowOptions(networkPolicy)), callback, { state, codeVerifier });
      return { session, accountId: await complete(session.id, app, grant), error: null };
    } catch (err) {
      return { session, accountId: null, error: await fail(session.id, err) };
    }
  };

  /** A sign-in as the API shows it; a token limited to some domains sees only those started within them. */
  const view = async (id: string, scope: DomainScope) => {
    const session = await getSignIn(pool, id);
    const visible = session && (scope === null || (session.tokenDomains !== null && session.tokenDomains.every((d) => scope.includes(d))));
    if (!session || !visible) throw notFound('sign-in', id);
    const expired = session.status === 'pending' && session.expiresAt.getTime() <= Date.now();
    return {
      id: session.id,
      provider: session.provider,
      flow: session.flow,
      status: expired ? ('expired' as const) : session.status,
      message: session.message,
      externalAccountId: session.purpose.kind === 'localMailbox' ? null : session.resultAccountId,
      localAccountId: session.purpose.kind === 'localMailbox' ? session.purpose.localAccountId : null,
      expiresAt: session.expiresAt,
    };
  };

  return { start, answer, view };
}
