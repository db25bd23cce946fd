import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { WORKFLOW_BUNDLE } from '../../worker/bundle';
import { historyFromJson } from '../support/history-json';

const HISTORIES = path.resolve(__dirname, '../../../test/workflows/histories');

/**
 * Histories recorded from earlier versions of the account workflow (record-histories.ts) replay
 * against the current code: a deploy does not break the accounts whose workflows are running.
 */
test('recorded account workflow histories replay against the current workflow code', async () => {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 4, 'the recorded histories are there');
  const histories = await Promise.all(
    files.map(async (file) => ({
      workflowId: file,
      history: historyFromJson(JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8'))),
    })),
  );
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});
