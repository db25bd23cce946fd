import { Client, WorkflowNotFoundError, isGrpcDeadlineError, type Connection } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/workflow';
import type { AccountStatus } from '../core/account-status';
import { configChangedSignal, connectNowSignal, statusQuery, stopSignal, workflowIdFor } from '../workflows/definitions';
import type { externalAccountWorkflow } from '../workflows/external-account';
import { externalAccountIdsUnder } from '../db/external-accounts';
import type { Queryable } from '../db/pool';
import { retryingFrom, type Retrying } from './retry-view';

const STATUS_DEADLINE_MS = 5_000;
/** Temporal down: the client would retry for some 20 s; an API answer should not wait that long. */
const SIGNAL_DEADLINE_MS = 10_000;

/** The workflow exists but its status cannot be had now (no worker, Temporal unreachable). */
export class StatusUnavailableError extends Error {}

/** What GET .../status answers. */
export type StatusView = AccountStatus & { retrying: Retrying | null };

/** What the API asks of an external account's workflow. Only the account id crosses over. */
export interface WorkflowControl {
  /** starts the workflow if needed and tells it the configuration changed */
  configChanged(externalAccountId: string): Promise<void>;
  /** starts the workflow if needed and asks for a cycle now */
  connectNow(externalAccountId: string): Promise<void>;
  /** ends the workflow (the account was deleted) */
  stop(externalAccountId: string): Promise<void>;
  /** the workflow's own status and any activity being retried, or null without a workflow */
  status(externalAccountId: string): Promise<StatusView | null>;
}

export function createWorkflowControl(connection: Connection, namespace: string, taskQueue: string): WorkflowControl {
  const client = new Client({ connection, namespace });
  const signalWithStart = async (id: string, signal: SignalDefinition): Promise<void> => {
    await connection.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      client.workflow.signalWithStart<typeof externalAccountWorkflow, []>('externalAccountWorkflow', {
        workflowId: workflowIdFor(id),
        taskQueue,
        args: [{ externalAccountId: id }],
        signal,
        signalArgs: [],
      }),
    );
  };
  return {
    configChanged: (id) => signalWithStart(id, configChangedSignal),
    connectNow: (id) => signalWithStart(id, connectNowSignal),
    async stop(id) {
      try {
        await client.workflow.getHandle(workflowIdFor(id)).signal(stopSignal);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },
    async status(id) {
      const handle = client.workflow.getHandle(workflowIdFor(id));
      try {
        // A query needs a worker to answer it; without one Temporal would hold it for long.
        const [status, description] = await connection.withDeadline(Date.now() + STATUS_DEADLINE_MS, () =>
          Promise.all([handle.query(statusQuery), handle.describe()]),
        );
        return { ...status, retrying: retryingFrom(description.raw.pendingActivities) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return null;
        if (isGrpcDeadlineError(err)) {
          throw new StatusUnavailableError(`no worker answered within ${STATUS_DEADLINE_MS / 1000} s; is the worker running?`);
        }
        throw new StatusUnavailableError(`Temporal could not be asked: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
  };
}

/** A domain or account changed (enabled, disabled, delivery): every external account under it re-reads its schedule. */
export async function configChangedUnder(
  db: Queryable,
  workflows: WorkflowControl,
  scope: { domainId?: string; accountId?: string },
): Promise<void> {
  for (const externalId of await externalAccountIdsUnder(db, scope)) await workflows.configChanged(externalId);
}
