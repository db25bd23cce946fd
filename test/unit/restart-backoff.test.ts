import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { restartDelayMs } from '../../core/restart-backoff';

describe('restart backoff of a supervised child', () => {
  test('1 s first, doubling while the child keeps crashing, capped at 30 s', () => {
    const delays: number[] = [];
    let previous: number | null = null;
    for (let i = 0; i < 8; i++) {
      previous = restartDelayMs(previous, 500);
      delays.push(previous);
    }
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  test('back to 1 s after a minute up', () => {
    assert.equal(restartDelayMs(30_000, 59_999), 30_000);
    assert.equal(restartDelayMs(30_000, 60_000), 1_000);
  });

  test('the limits can be set', () => {
    const backoff = { initialMs: 100, maxMs: 250, resetAfterMs: 1_000 };
    assert.equal(restartDelayMs(null, 0, backoff), 100);
    assert.equal(restartDelayMs(200, 10, backoff), 250);
    assert.equal(restartDelayMs(250, 1_000, backoff), 100);
  });
});
