import { flash } from './dom';

/** What the current screen polls; stopped when another screen is shown. */
let timers: number[] = [];

/** Runs `run` now and every `ms`, never two at once; failures become a flash message. */
export function every(ms: number, run: () => Promise<void>): void {
  let busy = false;
  const tick = (): void => {
    if (busy) return;
    busy = true;
    run()
      .catch((err: unknown) => flash(err instanceof Error ? err.message : String(err), 'error'))
      .finally(() => (busy = false));
  };
  tick();
  timers.push(window.setInterval(tick, ms));
}

export function stopPolling(): void {
  timers.forEach((t) => clearInterval(t));
  timers = [];
}
