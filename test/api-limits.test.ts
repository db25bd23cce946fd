import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useTestSystem } from './support/system';

describe('API limits', () => {
  const sys = useTestSystem({ worker: false, apiLimits: { maxBodyBytes: 4096, requestsPerMinute: 30 } });

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
});
