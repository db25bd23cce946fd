import { Context } from '@temporalio/activity';

const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs `work` while heartbeating on a timer with the progress `details` reports, so a long
 * listing, a slow target or one huge message does not look like a dead worker; a stalled
 * connection is caught by the socket read timeout instead.
 */
export async function heartbeating<T>(details: () => unknown, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const beat = setInterval(() => context.heartbeat(details()), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
