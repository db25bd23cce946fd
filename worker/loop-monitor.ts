import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Reports the event loop's longest delay every `everyMs`: a worker whose loop is blocked misses
 * heartbeats and status queries for every account it runs, so this is a figure worth watching.
 */
export function monitorEventLoop(everyMs: number, report: (line: string) => void): () => void {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  const timer = setInterval(() => {
    const maxMs = Math.round(histogram.max / 1e6);
    histogram.reset();
    report(
      `event loop: max delay ${maxMs} ms in the last ${Math.round(everyMs / 1000)} s${maxMs >= 1000 ? ' (blocked: heartbeats were late)' : ''}`,
    );
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}
