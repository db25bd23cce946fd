import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ByteGatherer, DIRECT_GATHER_BYTES } from '../../mail/byte-gatherer';

/** Splits bytes into pieces of the given sizes, cycling. */
function pieces(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    out.push(bytes.subarray(at, at + sizes[i % sizes.length]));
    at += sizes[i % sizes.length];
  }
  return out;
}

function gather(bytes: Buffer, declared: number, max = bytes.length, sizes = [16_384, 1, 70_000]): Buffer {
  const gatherer = new ByteGatherer(declared, max);
  for (const piece of pieces(bytes, sizes)) gatherer.push(piece);
  assert.equal(gatherer.length, bytes.length);
  return gatherer.bytes();
}

describe('ByteGatherer', () => {
  const large = randomBytes(3 * DIRECT_GATHER_BYTES + 123);

  test('gathers exactly what was pushed, small or large, whatever the pieces', () => {
    const small = randomBytes(5_000);
    assert.deepEqual(gather(small, small.length), small);
    assert.deepEqual(gather(Buffer.alloc(0), 0), Buffer.alloc(0));
    assert.deepEqual(gather(large, large.length), large);
  });

  test('a large message declared exactly lands in one buffer of its size, not pieces plus their join', () => {
    const result = gather(large, large.length);
    assert.equal(result.buffer.byteLength, large.length, 'no slack, no second copy kept');
  });

  test('a declared size too small only makes the buffer grow; one too large is given back', () => {
    assert.deepEqual(gather(large, 10), large);
    const lied = gather(large, 100 * large.length, 100 * large.length);
    assert.deepEqual(lied, large);
    assert.ok(lied.buffer.byteLength < 2 * large.length, `kept ${lied.buffer.byteLength} bytes for ${large.length}`);
  });

  test('never takes more than its bound, whatever was declared', () => {
    const gatherer = new ByteGatherer(1024 * 1024 * 1024, large.length);
    for (const piece of pieces(large, [DIRECT_GATHER_BYTES])) gatherer.push(piece);
    assert.ok(gatherer.bytes().buffer.byteLength <= large.length);
  });
});
