import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_TEXT_LENGTH, safeText, safeTextOrNull } from '../../core/safe-text';

/** Any UTF-16 code unit, with NUL, lone and paired surrogates drawn often. */
const unit = fc.oneof(
  fc.constantFrom('\0', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'a', 'é', '\n'),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const text = fc.string({ unit, maxLength: 2 * MAX_TEXT_LENGTH + 10 });

function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

describe('safeText', () => {
  test('never holds NUL or a lone surrogate, fits the cap, and is idempotent', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 2 * MAX_TEXT_LENGTH }), (s, max) => {
        for (const cap of [max, MAX_TEXT_LENGTH]) {
          const safe = safeText(s, cap);
          assert.ok(!safe.includes('\0'));
          assert.ok(!hasLoneSurrogate(safe));
          assert.ok(safe.length <= cap);
          assert.equal(safeText(safe, cap), safe);
          assert.equal(Buffer.from(safe, 'utf8').toString('utf8'), safe);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('keeps clean text that fits as it is', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        fc.pre(!s.includes('\0'));
        assert.equal(safeText(s), s);
      }),
    );
  });

  test('replaces NUL and lone surrogates by U+FFFD, cuts without splitting a pair', () => {
    assert.equal(safeText('x\0y'), 'x\uFFFDy');
    assert.equal(safeText('a\ud800b\udc00'), 'a\uFFFDb\uFFFD');
    assert.equal(safeText('ab\ud83d\ude00', 3), 'ab');
    assert.equal(safeText('x'.repeat(5000)).length, MAX_TEXT_LENGTH);
    assert.equal(safeTextOrNull(null), null);
    assert.equal(safeTextOrNull(undefined), null);
    assert.equal(safeTextOrNull(''), '');
  });
});
