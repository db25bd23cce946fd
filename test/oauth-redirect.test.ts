import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { refreshAccessToken } from '../mail/oauth-token';
import { loopbackPolicy } from '../testkit/network-policy';
import { rejection } from './support/rejection';

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the OAuth2 token request (loopback HTTP servers)', () => {
  let elsewhere: { server: http.Server; url: string };
  let redirecting: { server: http.Server; url: string };
  let endless: { server: http.Server; url: string };
  let arrivedElsewhere = 0;
  before(async () => {
    elsewhere = await listen((_req, res) => {
      arrivedElsewhere++;
      res.end('{}');
    });
    redirecting = await listen((req, res) => {
      res.writeHead(Number(req.url?.slice(1)), { location: `${elsewhere.url}/token` });
      res.end();
    });
    endless = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
  });
  after(async () => {
    for (const s of [elsewhere, redirecting, endless]) {
      s.server.closeAllConnections();
      await new Promise((r) => s.server.close(r));
    }
  });

  const settings = (tokenEndpoint: string) => ({ provider: 'custom' as const, tokenEndpoint, clientId: 'client', scope: null });
  const secrets = { clientSecret: 'the-client-secret', refreshToken: 'the-refresh-token' };

  test('a 307 or 308 is refused: the secrets never reach where it points', async () => {
    for (const status of [301, 302, 307, 308]) {
      const err = await rejection(
        refreshAccessToken(settings(`${redirecting.url}/${status}`), secrets, { timeoutMs: 5_000, networkPolicy: loopbackPolicy }),
      );
      assert.equal(err.kind, 'config');
      assert.match(err.message, new RegExp(`answered ${status} \\(a redirect\\)`));
      assert.ok(!err.message.includes('the-client-secret') && !err.message.includes('the-refresh-token'));
    }
    assert.equal(arrivedElsewhere, 0, 'no request arrived at the redirect target');
  });

  test('an answer without end is cut at 64 KiB with a clear error', async () => {
    const err = await rejection(
      refreshAccessToken(settings(`${endless.url}/token`), secrets, { timeoutMs: 5_000, networkPolicy: loopbackPolicy }),
    );
    assert.match(err.message, /larger than 65536 bytes/);
  });
});
