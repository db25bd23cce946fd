import http from 'node:http';
import https from 'node:https';
import { MailpullError } from '../core/errors';
import type { NetworkPolicy } from '../core/network-policy';
import { safeText } from '../core/safe-text';
import { checkHost, urlHost, type CheckedHost, type Resolver } from '../core/guarded-connect';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** for the whole request: resolving, connecting, sending and the answer's status line */
  timeoutMs: number;
  /** which addresses the URL's host may have (MAILPULL_ALLOWED_NETWORKS) */
  networkPolicy: NetworkPolicy;
  /** for tests: the resolver checkHost asks instead of the system's */
  resolve?: Resolver;
}

export type WebhookReply =
  | { ok: true; status: number; statusText: string }
  /** refused: the network policy refuses the URL's address, so trying again cannot help */
  | { ok: false; refused: boolean; error: string };

/**
 * The one place mailpull sends anything to a webhook URL. The host is resolved once and every
 * address checked against the network policy; the connection takes only the checked addresses.
 * Only the answer's status counts: its body is not read, redirects are not followed.
 */
export async function postWebhook({ url, body, headers, timeoutMs, networkPolicy, resolve }: WebhookRequest): Promise<WebhookReply> {
  const target = new URL(url);
  const startedAt = Date.now();
  let checked: CheckedHost;
  try {
    checked = await checkHost(urlHost(target), networkPolicy, { timeoutMs, resolve });
  } catch (err) {
    if (err instanceof MailpullError && err.kind === 'config') return { ok: false, refused: true, error: err.message };
    const { code, message } = err as NodeJS.ErrnoException;
    return { ok: false, refused: false, error: `${target.host}: ${code ?? safeText(message, 200)}` };
  }
  const leftMs = Math.max(1, timeoutMs - (Date.now() - startedAt));
  const client = target.protocol === 'https:' ? https : http;
  const signal = AbortSignal.timeout(leftMs);
  return new Promise((resolveReply) => {
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal,
        agent: false,
        lookup: checked.lookup,
      },
      (response) => {
        response.destroy();
        resolveReply({ ok: true, status: response.statusCode ?? 0, statusText: safeText(response.statusMessage ?? '', 100) });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      const why = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (err.code ?? safeText(err.message, 200));
      resolveReply({ ok: false, refused: false, error: `${target.host}: ${why}` });
    });
    request.end(body);
  });
}
