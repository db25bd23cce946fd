import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { useTestSystem, type TestSystem } from '../testkit/system';

/** GET path with this Authorization from a loopback address of our choice (all of 127/8 is loopback). */
function getFrom(sys: TestSystem, from: string, path: string, token: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${sys.baseUrl}${path}`, { localAddress: from, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

/** Many GETs from one address, `parallel` at a time; their statuses in order. */
async function flood(sys: TestSystem, from: string, tokens: string[], parallel = 1): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const statuses: number[] = new Array<number>(tokens.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tokens.length) {
      const i = next++;
      statuses[i] = await getFrom(sys, from, '/api/domains', tokens[i], agent);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  agent.destroy();
  return statuses;
}

/**
 * 10 failed authentications a minute from one address: ten are 401, the rest 429, but for the one
 * more the bucket refills every 6 s the flood lasted.
 */
function assertLimited(statuses: number[], startedMs: number): void {
  const refilled = Math.ceil((Date.now() - startedMs) / 6000);
  const failed = statuses.filter((s) => s === 401).length;
  assert.ok(failed >= 10 && failed <= 10 + refilled, `${failed} failed authentications were looked up, at most ${10 + refilled} expected`);
  assert.equal(failed + statuses.filter((s) => s === 429).length, statuses.length);
}

const invented = (i: number): string => `mpt_${i.toString(16).padStart(12, '0')}_${'A'.repeat(43)}`;

describe('API limits', () => {
  const sys = useTestSystem({ worker: false, apiLimits: { maxBodyBytes: 4096, requestsPerMinute: 30, authFailuresPerMinute: 10 } });

  test('a body over the limit is 413 naming the body, and creates nothing', async () => {
    const token = await sys.createToken('admin', 'body limit');
    const res = await sys.api('POST', '/api/domains', { name: 'big.test', padding: 'x'.repeat(5000) }, token);
    assert.equal(res.status, 413);
    assert.equal(res.body.error, 'payload_too_large');
    assert.equal(res.body.field, 'body');
    assert.equal((await sys.api('GET', '/api/domains', undefined, token)).body.domains.length, 0);
    assert.equal((await sys.api('POST', '/api/domains', { name: 'small.test' }, token)).status, 201, 'a body within the limit passes');
  });

  test('past the per-token rate the API answers 429 with Retry-After; another token is not affected', async () => {
    const busy = await sys.createToken('read', 'busy');
    const calm = await sys.createToken('read', 'calm');
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await sys.api('GET', '/api/domains', undefined, busy)).status);
    assert.deepEqual(statuses.slice(0, 30), Array(30).fill(200));
    const limited = await sys.api('GET', '/api/domains', undefined, busy);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1, 'Retry-After says when');
    assert.equal((await sys.api('GET', '/api/domains', undefined, calm)).status, 200);
  });

  test("invented ids and a real id with a wrong secret touch no real token's bucket; failed authentications from one address get 429 past the limit", async () => {
    const real = await sys.createToken('read', 'real');
    const realId = real.split('_')[1];
    const wrongSecret = `mpt_${realId}_${'B'.repeat(43)}`;
    let started = Date.now();
    const guessed = await flood(sys, '127.0.0.2', Array<string>(40).fill(wrongSecret));
    assertLimited(guessed, started);
    assert.deepEqual(guessed.slice(0, 11), [...Array<number>(10).fill(401), 429]);
    started = Date.now();
    const inventedIds = await flood(
      sys,
      '127.0.0.3',
      Array.from({ length: 40 }, (_, i) => invented(i)),
    );
    assertLimited(inventedIds, started);
    assert.deepEqual(inventedIds.slice(0, 11), [...Array<number>(10).fill(401), 429]);
    const refused = await sys.api('GET', '/api/domains', undefined, invented(99));
    assert.equal(refused.status, 401, 'another address has a limit of its own');

    const own = await flood(sys, '127.0.0.4', Array<string>(31).fill(real));
    assert.deepEqual(own, [...Array<number>(30).fill(200), 429], "the real token's whole burst is there, then its own limit");

    const logged = sys.apiLog.filter((line) => line.includes('authentication failed from 127.0.0.2'));
    assert.equal(logged.length, guessed.filter((s) => s === 401).length, 'each failure is logged, the refused ones are not looked up');
    assert.ok(logged.every((line) => line.includes(realId)));
    assert.ok(!sys.apiLog.some((line) => line.includes('BBBBBBBB')), 'never the secret');
  });
});

describe('API limits under a flood of invented token ids', () => {
  // one request a minute per token: the real token's bucket stays empty for the whole flood
  const sys = useTestSystem({ worker: false, apiLimits: { requestsPerMinute: 1, authFailuresPerMinute: 10 } });

  test("10,001 invented ids do not evict a real token's bucket", { timeout: 240_000 }, async () => {
    const real = await sys.createToken('read', 'real');
    assert.deepEqual(await flood(sys, '127.0.0.5', [real, real]), [200, 429]);
    const started = Date.now();
    const statuses = await flood(
      sys,
      '127.0.0.6',
      Array.from({ length: 10_001 }, (_, i) => invented(i)),
      16,
    );
    assertLimited(statuses, started);
    assert.deepEqual(await flood(sys, '127.0.0.5', [real]), [429], 'the real token is still past its limit');
  });
});
