import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_JITTER_SHARE, accountJitter, scheduledWaitMs } from '../../core/run-jitter';

const INTERVAL_MS = 300_000;

/** How many of the times fall in the busiest second. */
const busiestSecond = (times: readonly number[]): number => {
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(...perSecond.values());
};

describe('the scheduled wait between cycles (jitter)', () => {
  test('never longer than the interval, never shorter than nine tenths of it, and the same for the same account', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.integer({ min: 1_000, max: 7 * 24 * 3_600_000 }), (id, interval) => {
        const wait = scheduledWaitMs(id, interval);
        assert.ok(wait <= interval && wait >= interval * (1 - MAX_JITTER_SHARE), `${wait} for ${interval}`);
        assert.equal(scheduledWaitMs(id, interval), wait);
        assert.ok(accountJitter(id) >= 0 && accountJitter(id) < 1);
      }),
    );
  });

  test('10,000 accounts that all ran in the same second (a restart) run their next cycles spread out', () => {
    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    // the next cycle: over a tenth of the interval, about 333 a second instead of 10,000 at once
    const next = ids.map((id) => scheduledWaitMs(id, INTERVAL_MS));
    assert.ok(busiestSecond(next) < 700, `busiest second of the next cycle: ${busiestSecond(next)}`);
    // ten cycles on: spread over the whole interval, about 33 a second
    const tenth = ids.map((id) => (10 * scheduledWaitMs(id, INTERVAL_MS)) % INTERVAL_MS);
    assert.ok(busiestSecond(tenth) < 100, `busiest second ten cycles on: ${busiestSecond(tenth)}`);
  });
});
