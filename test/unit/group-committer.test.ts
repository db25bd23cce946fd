import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GroupCommitter } from '../../activities/group-committer';

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('GroupCommitter', () => {
  test('commits in order, in groups bounded by count and bytes, one at a time', async () => {
    const groups: number[][] = [];
    let running = 0;
    let maxRunning = 0;
    const committer = new GroupCommitter<number>(
      async (group) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        groups.push(group);
        running--;
      },
      { messages: 3, bytes: 100 },
    );
    for (const [item, size] of [
      [1, 10],
      [2, 10],
      [3, 10],
      [4, 90],
      [5, 20],
      [6, 1],
    ])
      await committer.add(item, size);
    await committer.drain();
    assert.deepEqual(groups, [[1, 2, 3], [4, 5], [6]]);
    assert.equal(maxRunning, 1);
  });

  test('a failed commit surfaces at the next call, and nothing after it is committed', async () => {
    const committed: number[] = [];
    const committer = new GroupCommitter<number>(
      async (group) => {
        await tick();
        if (group.includes(2)) throw new Error('disk full');
        committed.push(...group);
      },
      { messages: 1, bytes: 1e9 },
    );
    await committer.add(1, 1);
    await committer.add(2, 1);
    await assert.rejects(committer.add(3, 1), /disk full/);
    await committer.settle();
    assert.deepEqual(committed, [1]);
  });
});
