import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthAppList, SignIn, SignInStarted } from '../../api/response-types';
import type { ApiClient } from '../api-client';
import type { Command, OptionSpec, ParsedOptions } from '../command';
import { CommandError, UsageError } from '../errors';
import { findExternalAccount } from '../resolve';
import { ACCOUNT_OPTIONS, newAccountBody } from './external-accounts';

type DeviceStarted = Extract<SignInStarted, { flow: 'device' }>;
type ConsentStarted = Exclude<SignInStarted, DeviceStarted>;

const PROVIDERS = ['google', 'microsoft', 'custom'] as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Device flow: the user signs in elsewhere with the code; the API polls the provider, the CLI polls the API. */
async function awaitDevice(api: ApiClient, started: DeviceStarted, progress: (text: string) => void): Promise<SignIn> {
  progress(
    `To sign in, open ${started.verificationUri} and enter the code ${started.userCode}` +
      (started.verificationUriComplete ? `\n(or open ${started.verificationUriComplete})` : '') +
      `\nWaiting until ${started.expiresAt} ...`,
  );
  for (;;) {
    const view = await api.get<SignIn>(`/api/oauth/sessions/${started.id}`);
    if (view.status !== 'pending') return view;
    await sleep(Math.max(1, Math.min(started.intervalSeconds, 5)) * 1000);
  }
}

/** Waits on a loopback port for the provider's redirect (RFC 8252 §7.3) and hands its URL to the API. */
async function awaitLoopback(
  api: ApiClient,
  server: http.Server,
  started: ConsentStarted,
  progress: (text: string) => void,
): Promise<SignIn> {
  progress(
    `To sign in, open this address in a browser on this machine:\n${started.authorizationUrl}\nWaiting until ${started.expiresAt} ...`,
  );
  const timeoutMs = Math.max(0, new Date(started.expiresAt).getTime() - Date.now());
  const callbackUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CommandError('the sign-in expired before the browser came back')), timeoutMs);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
      if (!url.searchParams.has('state')) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('mailpull: signed in; you may close this window.\n');
      clearTimeout(timer);
      resolve(url.href);
    });
  });
  return api.post<SignIn>(`/api/oauth/sessions/${started.id}/callback`, { callbackUrl });
}

/** What a sign-in's grant is for: the body fields of POST /api/oauth/sessions beside provider and flow. */
export type SignInFor = Record<string, unknown>;

/** The options of a sign-in from the CLI: --provider, the loopback flow even where the device flow is offered, its port. */
export const SIGN_IN_OPTIONS: Record<string, OptionSpec> = {
  provider: { type: 'string', value: 'google|microsoft|custom', description: "the installation's OAuth app to sign in with; required" },
  loopback: { type: 'boolean', description: 'use a URL and a loopback redirect even where device authorization is offered' },
  'loopback-port': {
    type: 'string',
    value: 'N',
    description: 'the loopback port (default: any free one; a Google "Web application" client needs the registered one)',
  },
};

/**
 * Signs in at the provider with the installation's app: device authorization where it offers it
 * (Microsoft), else a URL to open and a loopback redirect. How the sign-in ended.
 */
export async function signInFlow(
  api: ApiClient,
  provider: (typeof PROVIDERS)[number],
  target: SignInFor,
  how: { loopback: boolean; port: number },
  progress: (text: string) => void,
): Promise<SignIn> {
  const { apps } = await api.get<OAuthAppList>('/api/oauth/apps');
  const app = apps.find((a) => a.provider === provider);
  if (!app) throw new CommandError(`no ${provider} OAuth app is configured (mailpull's operations guide: OAuth2 sign-in)`);
  if (app.deviceFlow && !how.loopback) {
    const started = await api.post<SignInStarted>('/api/oauth/sessions', { provider, flow: 'device', ...target });
    if (started.flow !== 'device') throw new CommandError('the API started another flow than asked');
    return awaitDevice(api, started, progress);
  }
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new CommandError(`cannot listen on 127.0.0.1:${how.port}: ${err.message}`)));
    server.listen(how.port, '127.0.0.1', resolve);
  });
  try {
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/callback`;
    const started = await api.post<SignInStarted>('/api/oauth/sessions', { provider, flow: 'loopback', redirectUri, ...target });
    if (started.flow !== 'loopback') throw new CommandError('the API started another flow than asked');
    return await awaitLoopback(api, server, started, progress);
  } finally {
    server.close();
  }
}

/** --provider and --loopback-port, checked. */
export function signInChoice(options: ParsedOptions, usage: () => string) {
  const provider = options.oneOf('provider', PROVIDERS);
  if (!provider) throw new UsageError('missing option --provider', usage());
  return { provider, how: { loopback: options.flag('loopback'), port: options.integer('loopback-port', 1, 65535) ?? 0 } };
}

export const signInCommand: Command = {
  words: ['external-accounts', 'sign-in'],
  summary:
    'Signs in at the provider (OAuth2) for an external account: a new one (--owner, --host, --username ...) or EXTERNAL_ACCOUNT (reconnect).\n' +
    "Device authorization where the installation's app offers it (Microsoft), else a URL to open and a loopback redirect.",
  args: [{ name: 'EXTERNAL_ACCOUNT', required: false }],
  options: { ...SIGN_IN_OPTIONS, ...ACCOUNT_OPTIONS },
  needs: 'api',
  async run({ args, options, api, progress }) {
    const usage = (): string =>
      'usage: mailpull external-accounts sign-in [EXTERNAL_ACCOUNT] --provider P [--owner ACCOUNT --host HOST --username USER ...] (see --help)';
    const { provider, how } = signInChoice(options, usage);
    const target = args[0]
      ? { externalAccountId: (await findExternalAccount(api(), args[0])).id }
      : { account: { ...(await newAccountBody(options, api, usage)), protocol: options.string('protocol') ?? 'imap' } };
    const view = await signInFlow(api(), provider, target, how, progress);
    if (view.status !== 'done') {
      return { json: view, text: `sign-in ${view.status}: ${view.message ?? 'the provider did not complete it in time'}`, failed: true };
    }
    return { json: view, text: `signed in: external account ${view.externalAccountId ?? '?'} collects with the new grant` };
  },
};
