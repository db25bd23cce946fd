/**
 * The task queue of the IMAP IDLE watches beside a worker's task queue: a worker of their own
 * serves it with its own slots (MAILPULL_MAX_IDLE_WATCHES), so held IDLE connections never take
 * the slots collection runs in.
 */
export const idleTaskQueue = (taskQueue: string): string => `${taskQueue}-idle`;
