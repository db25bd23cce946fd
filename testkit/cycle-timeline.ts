import type { temporal } from '@temporalio/proto';
import { timeOf } from './history-time';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One stretch of a workflow's first cycle, as its history timed it. */
export interface TimelineStep {
  /** an activity's type, or "to first activity" for the wait from the workflow's start */
  name: string;
  ms: number;
}

/**
 * Where the first cycle's time went: from the workflow's start to its first activity's start,
 * then each activity from its start to its end, until the timer that ends the cycle.
 */
export function firstCycleTimeline(events: readonly HistoryEvent[]): TimelineStep[] {
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes);
  if (!started) return [];
  const scheduled = new Map<string, string>(); // scheduled event id → activity type
  const running = new Map<string, { name: string; at: number }>(); // scheduled event id → its start
  const steps: TimelineStep[] = [];
  for (const e of events) {
    if (e.timerStartedEventAttributes) break;
    const asked = e.activityTaskScheduledEventAttributes;
    if (asked) scheduled.set(String(e.eventId), asked.activityType?.name ?? '?');
    const begun = e.activityTaskStartedEventAttributes;
    if (begun) {
      const name = scheduled.get(String(begun.scheduledEventId)) ?? '?';
      if (steps.length === 0) steps.push({ name: 'to first activity', ms: timeOf(e) - timeOf(started) });
      running.set(String(begun.scheduledEventId), { name, at: timeOf(e) });
    }
    const ended = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    const run = ended && running.get(String(ended.scheduledEventId));
    if (run) steps.push({ name: run.name, ms: timeOf(e) - run.at });
  }
  return steps;
}

export const formatTimeline = (steps: readonly TimelineStep[]): string =>
  steps.map((s) => `${s.name} ${(s.ms / 1000).toFixed(2)} s`).join(', ');
