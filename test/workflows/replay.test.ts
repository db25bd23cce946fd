import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { WORKFLOW_BUNDLE } from '../../worker/bundle';
import { historyFromJson } from '../support/history-json';

const HISTORIES = path.resolve(__dirname, '../../../test/workflows/histories');

interface HistoryEvent {
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
}

/** The recorded histories, as the proto JSON of their files. */
const recordedHistories = async (): Promise<{ file: string; json: { events: HistoryEvent[] } }[]> => {
  const files = (await readdir(HISTORIES)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 4, 'the recorded histories are there');
  return Promise.all(files.map(async (file) => ({ file, json: JSON.parse(await readFile(path.join(HISTORIES, file), 'utf8')) })));
};

/**
 * Histories recorded from earlier versions of the account workflow (record-histories.ts) replay
 * against the current code: a deploy does not break the accounts whose workflows are running.
 */
test('recorded account workflow histories replay against the current workflow code', async () => {
  const histories = (await recordedHistories()).map(({ file, json }) => ({ workflowId: file, history: historyFromJson(json) }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, histories)) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
});

/**
 * The other half: the replay test catches a change of commands. Each recorded history, altered as
 * if the code that wrote it had started with another activity, fails against the current code
 * with the error a running account would meet after such a deploy.
 */
test('a history recorded from workflow code that issued other commands fails replay with a determinism error', async () => {
  const altered = (await recordedHistories()).map(({ file, json }) => {
    const first = json.events.find((e) => e.activityTaskScheduledEventAttributes)?.activityTaskScheduledEventAttributes;
    assert.ok(first, `${file} schedules an activity`);
    first.activityType.name = first.activityType.name === 'loadSchedule' ? 'listNew' : 'loadSchedule';
    return { workflowId: file, history: historyFromJson(json) };
  });
  const outcomes: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE } }, altered)) {
    outcomes.push(
      `${result.workflowId}: ${result.error instanceof DeterminismViolationError ? 'determinism error' : String(result.error)}`,
    );
  }
  assert.deepEqual(
    outcomes,
    altered.map(({ workflowId }) => `${workflowId}: determinism error`),
  );
});
