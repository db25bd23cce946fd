import type { WorkflowExecutionDescription } from '@temporalio/client';

type PendingActivity = NonNullable<WorkflowExecutionDescription['raw']['pendingActivities']>[number];

export interface Retrying {
  activity: string;
  /** the attempt running or waiting now (2 = first retry) */
  attempt: number;
  lastError: { kind: string; message: string };
}

/**
 * The activity of a cycle that is being retried, from the workflow's pending activities, so the
 * status says why a cycle is slow before its retries run out.
 */
export function retryingFrom(pending: readonly PendingActivity[] | null | undefined): Retrying | null {
  const failing = pending?.find((p) => (p.attempt ?? 1) > 1 && p.lastFailure);
  if (!failing?.lastFailure) return null;
  return {
    activity: failing.activityType?.name ?? 'unknown',
    attempt: failing.attempt ?? 1,
    lastError: {
      kind: failing.lastFailure.applicationFailureInfo?.type ?? 'unknown',
      message: failing.lastFailure.message ?? '',
    },
  };
}
