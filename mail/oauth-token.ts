import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { classifyError, MailpullError } from '../core/errors';
import type { NetworkPolicy } from '../core/network-policy';
import { readTokenAnswer, type OAuthSettings } from '../core/oauth';
import { checkHost, urlHost } from '../core/guarded-connect';

export interface FreshToken {
  accessToken: string;
  expiresAt: Date;
  /** some providers (Microsoft) hand out a new refresh token with each refresh */
  refreshToken: string | null;
}

/** A token answer is a small JSON object; more than this is not read. */
const MAX_ANSWER_BYTES = 64 * 1024;

interface HttpAnswer {
  status: number;
  /** at most MAX_ANSWER_BYTES; empty for a redirect, whose body is not read */
  text: string;
}

/**
 * POSTs the form to the endpoint over a fresh connection to an address the network policy checked
 * (node:http with a fixed lookup: the global fetch cannot be told where to connect), never
 * following a redirect, reading at most MAX_ANSWER_BYTES of the answer, all within `timeoutMs`.
 */
function postForm(endpoint: URL, form: URLSearchParams, lookup: LookupFunction, timeoutMs: number): Promise<HttpAnswer> {
  const body = form.toString();
  const request = endpoint.protocol === 'https:' ? https.request : http.request;
  return new Promise<HttpAnswer>((resolve, reject) => {
    // the first outcome settles the promise; destroying the request then ends what is left of it
    const fail = (err: Error): void => {
      reject(err);
      req.destroy();
    };
    const req = request(
      endpoint,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          accept: 'application/json',
        },
        lookup,
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          resolve({ status, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            fail(new MailpullError('protocol', `the token endpoint's answer is larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
      },
    );
    const timer = setTimeout(
      () => fail(new MailpullError('timeout', `the token endpoint ${endpoint.host} did not answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', fail);
    req.end(body);
  });
}

/** Trades the refresh token for a new access token at the provider's token endpoint (RFC 6749 §6). */
export async function refreshAccessToken(
  oauth: OAuthSettings,
  secrets: { clientSecret: string | undefined; refreshToken: string },
  options: { timeoutMs: number; networkPolicy: NetworkPolicy },
): Promise<FreshToken> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secrets.refreshToken, client_id: oauth.clientId });
  if (secrets.clientSecret) form.set('client_secret', secrets.clientSecret);
  if (oauth.scope) form.set('scope', oauth.scope);
  const endpoint = new URL(oauth.tokenEndpoint);
  const started = Date.now();
  let response: HttpAnswer;
  try {
    const checked = await checkHost(urlHost(endpoint), options.networkPolicy, { timeoutMs: options.timeoutMs });
    response = await postForm(endpoint, form, checked.lookup, options.timeoutMs);
  } catch (err) {
    if (err instanceof MailpullError) throw err;
    // the error names only the failure, never the form that was being sent
    throw new MailpullError('network', `the token endpoint ${endpoint.host} could not be reached: ${classifyError(err).message}`);
  }
  if (response.status >= 300 && response.status < 400) {
    throw new MailpullError(
      'config',
      `the token endpoint ${endpoint.host} answered ${response.status} (a redirect); redirects are not followed, since the request carries the client secret and the refresh token: set tokenEndpoint to the final address`,
    );
  }
  let body: unknown = null;
  try {
    body = JSON.parse(response.text);
  } catch {
    // not JSON: readTokenAnswer names the status
  }
  const answer = readTokenAnswer(response.status, body);
  if (!answer.ok) throw new MailpullError(answer.kind, answer.message);
  return {
    accessToken: answer.accessToken,
    expiresAt: new Date(started + answer.expiresInSeconds * 1000),
    refreshToken: answer.refreshToken,
  };
}
