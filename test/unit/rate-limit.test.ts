import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clientKey } from '../../core/client-address';
import { RateLimiter } from '../../core/rate-limit';

describe('RateLimiter', () => {
  test('a burst up to the limit passes, the next is refused with the wait until a request is refilled', () => {
    const limiter = new RateLimiter(60);
    for (let i = 0; i < 60; i++) assert.equal(limiter.take('t', 0).allowed, true, `request ${i}`);
    assert.deepEqual(limiter.take('t', 0), { allowed: false, retryAfterSeconds: 1 });
    assert.equal(limiter.take('t', 999).allowed, false);
    assert.equal(limiter.take('t', 1000).allowed, true, 'one a second comes back');
  });
  test('each key has its own bucket; a refilled bucket never exceeds the burst', () => {
    const limiter = new RateLimiter(2);
    assert.ok(limiter.take('a', 0).allowed && limiter.take('a', 0).allowed);
    assert.equal(limiter.take('a', 0).allowed, false);
    assert.equal(limiter.take('b', 0).allowed, true);
    assert.equal(limiter.take('a', 0).retryAfterSeconds, 30);
    const later = 10 * 60_000;
    assert.ok(limiter.take('a', later).allowed && limiter.take('a', later).allowed);
    assert.equal(limiter.take('a', later).allowed, false);
  });
  test('at most maxKeys buckets are kept, the least recently used dropped first', () => {
    const limiter = new RateLimiter(1, 3);
    for (const key of ['a', 'b', 'c', 'd', 'e']) limiter.take(key, 0);
    assert.equal(limiter.size, 3);
    assert.equal(limiter.take('e', 0).allowed, false, 'a recent key keeps its bucket');
    assert.equal(limiter.take('a', 0).allowed, true, 'a dropped key starts again');
  });
  test('check says what take would without taking; refund gives one back, never above the burst', () => {
    const limiter = new RateLimiter(2);
    assert.equal(limiter.check('a', 0).allowed, true);
    assert.equal(limiter.size, 0, 'checking keeps no bucket');
    limiter.take('a', 0);
    limiter.take('a', 0);
    assert.deepEqual(limiter.check('a', 0), { allowed: false, retryAfterSeconds: 30 });
    limiter.refund('a');
    assert.equal(limiter.take('a', 0).allowed, true);
    limiter.refund('a');
    limiter.refund('a');
    limiter.refund('a');
    assert.ok(limiter.take('a', 0).allowed && limiter.take('a', 0).allowed);
    assert.equal(limiter.take('a', 0).allowed, false, 'refunds fill up to the burst only');
  });
});

describe('clientKey', () => {
  test('IPv4 as itself (mapped or not), IPv6 by its /64, anything else as given', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:2:ffff::9'));
    assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
    assert.equal(clientKey('::1'), '::/64');
    assert.equal(clientKey('unknown'), 'unknown');
  });
});
