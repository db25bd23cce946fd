import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { TestSystem } from '../testkit/system';
import { unusedPort } from '../testkit/ports';

describe("the worker's Temporal SDK metrics", () => {
  let sys: TestSystem;
  let address = '';
  before(async () => {
    address = `127.0.0.1:${await unusedPort()}`;
    sys = await TestSystem.start({ workerEnv: { MAILPULL_WORKER_METRICS_ADDRESS: address } });
  });
  after(async () => {
    await sys.close();
  });

  test('after a collection the worker serves Prometheus metrics of its task queue: activity latencies and completed workflow tasks', async () => {
    const user = await addUser('metrics');
    await saveMessages(user, [buildMessage({ subject: 'measured' })]);
    const owner = await sys.localAccount('owner@metrics.test');
    const external = await sys.pop3Account(owner, user);
    await sys.waitForCycles(external.id, 1);
    const text = await waitFor('activity metrics of the task queue', async () => {
      const body = await (await fetch(`http://${address}/metrics`)).text();
      return body.includes('activity_schedule_to_start_latency') && body.includes(sys.taskQueue) && body;
    });
    const line = (prefix: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(prefix) && l.includes(`task_queue="${sys.taskQueue}"`) && l.includes('activity_type="downloadBatch"'));
    assert.ok(line('temporal_activity_execution_latency_count'), 'downloadBatch ran and was timed');
    assert.ok(
      text.split('\n').some((l) => l.startsWith('temporal_workflow_task_schedule_to_start_latency_count')),
      'workflow-task schedule-to-start latency',
    );
  });
});
