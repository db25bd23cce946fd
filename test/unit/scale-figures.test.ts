import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { firstCycleTimeline } from '../../testkit/cycle-timeline';
import { historyFigures } from '../../testkit/scale-history';
import { scaleVerdict, type ScaleVerdictInput } from '../../testkit/scale-metrics';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
let id = 0;
/** An event as the SDK decodes it; protobuf's Long fields are plain numbers here, as Number() reads them alike. */
const event = (ms: number, attributes: Record<string, unknown>): HistoryEvent =>
  ({ eventId: ++id, eventTime: at(ms), ...attributes }) as unknown as HistoryEvent;
const task = (ms: number) => event(ms, { workflowTaskScheduledEventAttributes: {} });
const activity = (ms: number, name: string) => [
  event(ms, { activityTaskScheduledEventAttributes: { activityType: { name } } }),
  event(ms + 5, { activityTaskStartedEventAttributes: {} }),
];
const timer = (ms: number, seconds: number) => event(ms, { timerStartedEventAttributes: { startToFireTimeout: { seconds } } });

describe('the scale run: figures from an account history', () => {
  test('a cycle per timer, with its actions and workflow tasks; lateness from the timer due to the next cycle’s first activity', () => {
    id = 0;
    const events = [
      event(0, { workflowExecutionStartedEventAttributes: {} }),
      task(0),
      ...activity(10, 'startCycle'),
      task(20),
      timer(30, 60),
    ];
    const started = events.at(-1)?.eventId;
    events.push(
      event(62_000, { timerFiredEventAttributes: { startedEventId: started } }),
      task(62_000),
      ...activity(62_500, 'startCycle'),
      task(62_600),
      ...activity(62_700, 'finishCycle'),
      task(62_800),
      timer(62_900, 60),
    );
    const figures = historyFigures(events, 1_000, 100_000);
    assert.equal(figures.cycles.length, 1, 'only the cycle that began in the window');
    assert.deepEqual(figures.cycles[0].activities, ['startCycle', 'finishCycle']);
    assert.equal(figures.cycles[0].actions, 3);
    assert.equal(figures.cycles[0].workflowTasks, 3);
    // due at 60.03 s, the next activity started at 62.505 s
    assert.deepEqual(figures.lateness, [2_475]);
  });
});

describe('the bench: where the first cycle’s time went', () => {
  test('from the workflow’s start to its first activity, then each activity from its start to its end, until the cycle’s timer', () => {
    id = 0;
    const events = [
      event(0, { workflowExecutionStartedEventAttributes: {} }),
      task(0),
      event(100, { activityTaskScheduledEventAttributes: { activityType: { name: 'startCycle' } } }),
      event(270, { activityTaskStartedEventAttributes: { scheduledEventId: 3 } }),
      event(750, { activityTaskCompletedEventAttributes: { scheduledEventId: 3 } }),
      task(760),
      event(770, { activityTaskScheduledEventAttributes: { activityType: { name: 'downloadBatch' } } }),
      event(780, { activityTaskStartedEventAttributes: { scheduledEventId: 7 } }),
      event(5_580, { activityTaskCompletedEventAttributes: { scheduledEventId: 7 } }),
      timer(5_600, 60),
      event(65_600, { activityTaskScheduledEventAttributes: { activityType: { name: 'startCycle' } } }),
    ];
    assert.deepEqual(firstCycleTimeline(events), [
      { name: 'to first activity', ms: 270 },
      { name: 'startCycle', ms: 480 },
      { name: 'downloadBatch', ms: 4_800 },
    ]);
  });
});

const fine: ScaleVerdictInput = {
  cores: 2,
  windowSeconds: 100,
  cpuSeconds: { worker: 30, Temporal: 40, PostgreSQL: 10, Dovecot: 10 },
  withinShare: 1,
  connectP99Ms: 2_000,
  workerRssPeakMb: 300,
  workflowTaskScheduleToStartP99Ms: 100,
  activityScheduleToStartP99Ms: 80,
  cacheHits: 100,
  cacheMisses: 0,
  cacheSize: 500,
  pgConnectionsPeak: 50,
  pgMaxConnections: 300,
};

describe('the scale run: what ran out', () => {
  test('nothing is named while every goal is met', () => {
    assert.deepEqual(scaleVerdict(fine), { missed: [], causes: [] });
  });

  test('a missed goal names the part busy near a core and the workflow-task path when only workflow tasks wait', () => {
    const { missed, causes } = scaleVerdict({
      ...fine,
      withinShare: 0.39,
      cpuSeconds: { worker: 83, Temporal: 75, PostgreSQL: 10, Dovecot: 10 },
      workflowTaskScheduleToStartP99Ms: 953_000,
      activityScheduleToStartP99Ms: 631,
    });
    assert.equal(missed.length, 1);
    assert.match(missed[0], /39\.0 %/);
    assert.ok(causes.some((c) => c.startsWith('worker CPU: 0.83 cores')));
    assert.ok(!causes.some((c) => c.startsWith('Temporal CPU')), 'Temporal at 0.75 cores is not near a core');
    assert.ok(causes.some((c) => c.startsWith("the machine's CPU: 1.78 of 2 cores")));
    assert.ok(causes.some((c) => c.startsWith('the workflow-task path: workflow-task schedule-to-start p99 953.0 s, activity 631 ms')));
  });

  test('memory, the workflow cache and PostgreSQL connections are named by their figures', () => {
    const { missed, causes } = scaleVerdict({ ...fine, workerRssPeakMb: 782, cacheHits: 10, cacheMisses: 90, pgConnectionsPeak: 298 });
    assert.deepEqual(missed, ['worker RSS 782 MB ≥ 500 MB']);
    assert.ok(causes.some((c) => c.startsWith('worker memory: RSS peak 782 MB')));
    assert.ok(causes.some((c) => c.startsWith('the workflow cache: 90 %')));
    assert.ok(causes.some((c) => c.startsWith('PostgreSQL connections: peak 298 of max_connections 300')));
  });

  test('a missed goal without a clear cause says so', () => {
    assert.deepEqual(scaleVerdict({ ...fine, connectP99Ms: 6_000 }).causes, [
      'no single resource stands out: see CPU per cycle and the latencies',
    ]);
  });
});
