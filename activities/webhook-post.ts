import http from 'node:http';
import https from 'node:https';
import { safeText } from '../core/safe-text';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** for the whole request: connecting, sending and the answer's status line */
  timeoutMs: number;
}

export type WebhookReply = { ok: true; status: number; statusText: string } | { ok: false; error: string };

/**
 * The one place mailpull sends anything to a webhook URL (an outbound connection policy belongs
 * here). Only the answer's status counts: its body is not read, redirects are not followed.
 */
export function postWebhook({ url, body, headers, timeoutMs }: WebhookRequest): Promise<WebhookReply> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  const signal = AbortSignal.timeout(timeoutMs);
  return new Promise((resolve) => {
    const request = client.request(
      target,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal, agent: false },
      (response) => {
        response.destroy();
        resolve({ ok: true, status: response.statusCode ?? 0, statusText: safeText(response.statusMessage ?? '', 100) });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      const why = signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (err.code ?? safeText(err.message, 200));
      resolve({ ok: false, error: `${target.host}: ${why}` });
    });
    request.end(body);
  });
}
