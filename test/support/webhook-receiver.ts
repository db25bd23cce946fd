import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  status: number;
}

/** A webhook receiver on 127.0.0.1 that answers each POST with the status `answer` gives for it (1, 2, …). */
export class Receiver {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly requests: Received[],
  ) {}

  static async start(answer: (n: number) => number = () => 200): Promise<Receiver> {
    const requests: Received[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = answer(requests.length + 1);
        requests.push({ headers: req.headers, raw: Buffer.concat(chunks), status });
        res.writeHead(status, { 'content-type': 'text/plain' }).end('thanks');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new Receiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/mailpull`, requests);
  }

  of(event: string): Received[] {
    return this.requests.filter((r) => r.headers['x-mailpull-event'] === event);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does: the HMAC-SHA256 of the raw body with the secret, compared in constant time. */
export function signatureVerifies(secret: string, received: Received): boolean {
  const header = String(received.headers['x-mailpull-signature'] ?? '');
  if (!header.startsWith('sha256=')) return false;
  const expected = createHmac('sha256', secret).update(received.raw).digest();
  const given = Buffer.from(header.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
