import { writeFile } from 'node:fs/promises';

/**
 * Touches `path` every 10 s while `alive()` holds: a health check that sees a fresh file knows the
 * process runs, its event loop turns and its Temporal worker polls.
 */
export function keepHealthFile(path: string, alive: () => boolean): () => void {
  const touch = (): void => {
    if (alive()) writeFile(path, `${new Date().toISOString()}\n`).catch(() => undefined);
  };
  touch();
  const timer = setInterval(touch, 10_000);
  timer.unref();
  return () => clearInterval(timer);
}
