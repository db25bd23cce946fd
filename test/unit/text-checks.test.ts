import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ADDRESS_PATTERN, DOMAIN_NAME_PATTERN, HOST_PATTERN } from '../../api/schemas';
import { isAddress, isDomainName, isHost } from '../../api/text-checks';

/** Short texts of the characters the patterns care about, each drawn often. */
const text = fc.string({
  unit: fc.constantFrom('a', 'Z', '0', '9', 'f', '-', '.', '@', ':', ' ', '\t', '<', '"', '\\', '[', ']', ',', 'é', '_'),
  maxLength: 24,
});

/** Labels of up to 70 characters: around the 63-character bound of a DNS label. */
const labels = fc
  .array(fc.string({ unit: fc.constantFrom('a', '0', '-'), minLength: 0, maxLength: 70 }), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join('.'));

describe('linear checks of request text', () => {
  const cases: [string, (t: string) => boolean, string][] = [
    ['isAddress', isAddress, ADDRESS_PATTERN],
    ['isDomainName', isDomainName, DOMAIN_NAME_PATTERN],
    ['isHost', isHost, HOST_PATTERN],
  ];
  for (const [name, check, pattern] of cases) {
    test(`${name} accepts exactly what the pattern in the OpenAPI document matches`, () => {
      const regex = new RegExp(pattern);
      fc.assert(
        fc.property(
          fc.oneof(
            text,
            labels,
            labels.map((l) => `x@${l}`),
          ),
          (t) => check(t) === regex.test(t),
        ),
        { numRuns: 20_000 },
      );
    });
  }

  test('a megabyte of the shapes that make the patterns backtrack takes well under a second (the patterns take minutes)', () => {
    const n = 1024 * 1024;
    for (const t of ['a@' + '.'.repeat(n) + '@', 'a.'.repeat(n / 2) + '!', 'a' + '-'.repeat(n) + '!', '0:'.repeat(n / 2) + 'g']) {
      for (const check of [isAddress, isDomainName, isHost]) {
        const started = performance.now();
        check(t);
        const ms = performance.now() - started;
        assert.ok(ms < 1000, `${check.name}: ${ms.toFixed(1)} ms`);
      }
    }
  });
});
