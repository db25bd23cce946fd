import http from 'node:http';
import https from 'node:https';
import { MailpullError } from './errors';
import type { NetworkPolicy } from './network-policy';
import { checkHost, urlHost } from './guarded-connect';

/** An authorization server's answer (metadata, keys, tokens) is small JSON; more than this is not read. */
const MAX_ANSWER_BYTES = 256 * 1024;

export interface PolicyFetchOptions {
  networkPolicy: NetworkPolicy;
  /** for each request: resolving, connecting, sending and reading the answer */
  timeoutMs: number;
}

type FetchInit = { method?: string; headers?: Record<string, string> | Headers; body?: unknown; signal?: AbortSignal | null };

const bodyText = (body: unknown): string | undefined => {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  throw new MailpullError('config', 'an OAuth2 request with a body that is neither text nor a form');
};

/**
 * A fetch for the OAuth client library (openid-client's customFetch): every request goes to an
 * address the network policy checked, on a fresh connection that takes only those addresses
 * (the global fetch cannot be told where to connect). Redirects come back as they are, never
 * followed; an answer larger than MAX_ANSWER_BYTES fails.
 */
export function policyFetch({ networkPolicy, timeoutMs }: PolicyFetchOptions) {
  return async (input: string | URL, init: FetchInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new MailpullError('config', `${url.protocol} is no OAuth2 endpoint`);
    const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const checked = await checkHost(urlHost(url), networkPolicy, { timeoutMs });
    const body = bodyText(init.body);
    const headers = Object.fromEntries(new Headers(init.headers ?? {}).entries());
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers, lookup: checked.lookup, agent: false, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            reject(new MailpullError('protocol', `${url.host} answered with more than ${MAX_ANSWER_BYTES} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) answerHeaders.append(name, v);
          }
          const status = res.statusCode ?? 502;
          const nullBody = status === 204 || status === 304;
          resolve(
            new Response(nullBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: answerHeaders }),
          );
        });
        res.on('error', reject);
      });
      req.on('error', (err) => {
        reject(
          signal.aborted
            ? new MailpullError('timeout', `${url.host} did not answer within ${timeoutMs / 1000} s`)
            : new MailpullError('network', `${url.host} could not be reached: ${err.message}`),
        );
      });
      req.end(body);
    });
  };
}
