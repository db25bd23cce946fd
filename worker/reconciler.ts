import { Client, WorkflowNotFoundError, type ConnectionLike } from '@temporalio/client';
import type { Pool } from '../db/pool';
import { accountsToReconcile } from '../db/workflow-reconcile';
import { workflowIdFor } from '../workflows/definitions';
import type { externalAccountWorkflow } from '../workflows/external-account';

/** Accounts looked at per pass: a pass costs one query and at most this many describes. */
const PER_PASS = 100;
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

export interface ReconcilerOptions {
  pool: Pool;
  connection: ConnectionLike;
  namespace: string;
  taskQueue: string;
  intervalMs: number;
  log: { info(line: string): void; warn(line: string): void };
}

/**
 * Starts the workflow of every external account that should have one and has none: an account
 * saved while Temporal was unreachable, or whose workflow was terminated. Each pass takes the
 * next accounts that look suspicious (db/workflow-reconcile.ts), asks Temporal about each and
 * starts those not running; a start of one running meanwhile is a no-op (USE_EXISTING). Runs
 * at once and then every intervalMs; returns the stop.
 */
export function keepReconciling(options: ReconcilerOptions): () => void {
  const client = new Client({ connection: options.connection, namespace: options.namespace });
  let after = FIRST_ID;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const startIfNotRunning = async (id: string): Promise<boolean> => {
    const handle = client.workflow.getHandle(workflowIdFor(id));
    try {
      if ((await handle.describe()).status.name === 'RUNNING') return false;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    await client.workflow.start<typeof externalAccountWorkflow>('externalAccountWorkflow', {
      workflowId: workflowIdFor(id),
      taskQueue: options.taskQueue,
      args: [{ externalAccountId: id }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return true;
  };

  const pass = async (): Promise<void> => {
    const ids = await accountsToReconcile(options.pool, after, PER_PASS);
    // the next pass goes on after these, and from the start once the end is reached
    after = ids.length === PER_PASS ? ids[ids.length - 1] : FIRST_ID;
    for (const id of ids) {
      if (stopped) return;
      if (await startIfNotRunning(id))
        options.log.info(`mailpull reconciler: started the workflow of external account ${id}, which had none running`);
    }
  };

  const loop = (): void => {
    pass()
      .catch((err: unknown) =>
        options.log.warn(
          `mailpull reconciler: pass failed, next in ${options.intervalMs / 1000} s: ${err instanceof Error ? err.message : String(err)}`,
        ),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs).unref();
      });
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
