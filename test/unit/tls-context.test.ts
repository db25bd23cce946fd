import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type tls from 'node:tls';
import { caSetKey, SecureContextCache, secureContextFor } from '../../mail/tls-context';

const CA_A = '-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n';
const CA_B = '-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n';

/** A cache whose contexts are stand-ins recording the options they were built with. */
function fakeCache(max?: number): { cache: SecureContextCache; built: tls.SecureContextOptions[] } {
  const built: tls.SecureContextOptions[] = [];
  const create = (options: tls.SecureContextOptions): tls.SecureContext => {
    built.push(options);
    return { context: built.length };
  };
  return { cache: new SecureContextCache(create, max), built };
}

describe('secure contexts per CA set', () => {
  test('one context for the system roots, one per distinct extra CA, shared by every connection', () => {
    const { cache, built } = fakeCache();
    const roots = cache.get(null);
    assert.equal(cache.get(undefined), roots);
    assert.equal(cache.get(''), roots, 'no CA text is the system roots');
    const a = cache.get(CA_A);
    assert.equal(cache.get(`${CA_A}`), a, 'the same CA text, another string');
    const b = cache.get(CA_B);
    assert.notEqual(a, roots);
    assert.notEqual(a, b);
    assert.equal(cache.built, 3);
    assert.deepEqual(built[0], {}, 'the system roots: the default trust');
    const withA = built[1].ca as string[];
    assert.equal(withA[withA.length - 1], CA_A, 'an extra CA is trusted besides the system roots');
    assert.ok(withA.length > 1);
  });

  test('keys name the CA set, not the CA text', () => {
    assert.equal(caSetKey(null), 'roots');
    assert.notEqual(caSetKey(CA_A), caSetKey(CA_B));
    assert.ok(!caSetKey(CA_A).includes('CERTIFICATE'));
  });

  test('holds a bounded number of CA sets, dropping the least recently used', () => {
    const { cache } = fakeCache(2);
    const roots = cache.get(null);
    cache.get(CA_A);
    assert.equal(cache.get(null), roots);
    cache.get(CA_B);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(null), roots, 'used last, so kept');
    assert.equal(cache.built, 3);
    cache.get(CA_A);
    assert.equal(cache.built, 4, 'CA_A was dropped and built again');
  });

  test('the process-wide cache builds a real context once', () => {
    const context = secureContextFor(null);
    assert.ok(context.context);
    assert.equal(secureContextFor(null), context);
  });
});
