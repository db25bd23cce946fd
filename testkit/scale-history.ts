import type { temporal } from '@temporalio/proto';
import { cycleCost, cyclesOf, type CycleCost } from './engine-cost';
import { durationMs, timeOf } from './history-time';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface HistoryFigures {
  /** the cost of each cycle that began in the window */
  cycles: CycleCost[];
  /**
   * Of each wait between cycles that ran to its end in the window: how long after the timer was
   * due the next cycle's first activity started (ms). A wait cut short (Connect Now, new mail
   * over IDLE) has no lateness.
   */
  lateness: number[];
}

/** What one account's history says about its cycles that began in [from, to). */
export function historyFigures(events: readonly HistoryEvent[], from: number, to: number): HistoryFigures {
  const inWindow = (at: number): boolean => at >= from && at < to;
  const cycles = cyclesOf(events)
    .filter((c) => c.length > 0 && inWindow(timeOf(c[0])))
    .map(cycleCost);
  const due = new Map<string, number>(); // timer started event id → when it was due
  const lateness: number[] = [];
  let firedDue: number | null = null;
  for (const e of events) {
    const started = e.timerStartedEventAttributes;
    if (started) due.set(String(e.eventId), timeOf(e) + durationMs(started.startToFireTimeout));
    const fired = e.timerFiredEventAttributes;
    if (fired) firedDue = due.get(String(fired.startedEventId)) ?? null;
    if (e.activityTaskStartedEventAttributes && firedDue !== null) {
      if (inWindow(firedDue)) lateness.push(Math.max(0, timeOf(e) - firedDue));
      firedDue = null;
    }
  }
  return { cycles, lateness };
}
