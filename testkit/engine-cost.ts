import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** What Temporal bills one stretch of a workflow's history for, as the events show it. */
export interface CycleCost {
  /** activities, timers, search-attribute and memo upserts, markers, signals, child starts */
  actions: number;
  /** each one a round trip to a worker (and, without a cached workflow, a replay) */
  workflowTasks: number;
  activities: string[];
  timers: number;
  upserts: number;
  markers: number;
  signals: number;
  childStarts: number;
}

/** The billable commands and events of a history, by the attributes each event carries. */
const ACTION_EVENTS = {
  activity: 'activityTaskScheduledEventAttributes',
  timer: 'timerStartedEventAttributes',
  upsert: 'upsertWorkflowSearchAttributesEventAttributes',
  memo: 'workflowPropertiesModifiedEventAttributes',
  marker: 'markerRecordedEventAttributes',
  signal: 'workflowExecutionSignaledEventAttributes',
  signalOut: 'signalExternalWorkflowExecutionInitiatedEventAttributes',
  child: 'startChildWorkflowExecutionInitiatedEventAttributes',
} as const satisfies Record<string, keyof HistoryEvent>;

export function costOf(events: readonly HistoryEvent[]): CycleCost {
  const cost: CycleCost = { actions: 0, workflowTasks: 0, activities: [], timers: 0, upserts: 0, markers: 0, signals: 0, childStarts: 0 };
  for (const e of events) {
    if (e.workflowTaskScheduledEventAttributes) cost.workflowTasks++;
    const activity = e[ACTION_EVENTS.activity];
    if (activity) cost.activities.push(activity.activityType?.name ?? '?');
    if (e[ACTION_EVENTS.timer]) cost.timers++;
    if (e[ACTION_EVENTS.upsert] || e[ACTION_EVENTS.memo]) cost.upserts++;
    if (e[ACTION_EVENTS.marker]) cost.markers++;
    if (e[ACTION_EVENTS.signal] || e[ACTION_EVENTS.signalOut]) cost.signals++;
    if (e[ACTION_EVENTS.child]) cost.childStarts++;
  }
  cost.actions = cost.activities.length + cost.timers + cost.upserts + cost.markers + cost.signals + cost.childStarts;
  return cost;
}

/**
 * A history cut into cycles: each ends with the timer it waits on for the next one (the wait
 * between cycles), and begins after the previous cycle's timer. The workflow's start, before the
 * first cycle, is left out, and so is a cycle still running (no timer yet).
 */
export function cyclesOf(events: readonly HistoryEvent[]): HistoryEvent[][] {
  const cycles: HistoryEvent[][] = [];
  let current: HistoryEvent[] = [];
  for (const e of events) {
    if (e.workflowExecutionStartedEventAttributes) continue;
    current.push(e);
    if (e.timerStartedEventAttributes) {
      cycles.push(current);
      current = [];
    }
  }
  return cycles;
}

/**
 * The cost of one cycle triggered by a signal (Connect Now) or a timer: the signal that started
 * it is the caller's, not the cycle's, and is left out.
 */
export function cycleCost(cycle: readonly HistoryEvent[]): CycleCost {
  const first = cycle.findIndex((e) => e.workflowExecutionSignaledEventAttributes || e.timerFiredEventAttributes);
  return costOf(first >= 0 && cycle[first].workflowExecutionSignaledEventAttributes ? cycle.filter((_, i) => i !== first) : cycle);
}

export const formatCost = (c: CycleCost): string =>
  `${c.actions} actions (${c.activities.length} activities: ${c.activities.join(', ') || '-'}; ${c.timers} timers; ${c.upserts} upserts; ` +
  `${c.markers} markers; ${c.signals} signals; ${c.childStarts} child starts), ${c.workflowTasks} workflow tasks`;
