import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ErrorKind } from '../core/errors';
import type { TlsOutcome } from '../core/tls-decision';

export const workflowIdFor = (externalAccountId: string): string => `external-account:${externalAccountId}`;

export type Phase = 'starting' | 'waiting' | 'disabled' | 'listing' | 'downloading' | 'deleting' | 'stopped';

export interface RunSummary {
  startedAt: string;
  finishedAt: string;
  outcome: 'ok' | 'failed' | 'skipped';
  onServer: number;
  /** messages on the server mailpull had never seen before */
  newOnServer: number;
  downloaded: number;
  downloadedBytes: number;
  removed: number;
  tooLarge: number;
}

export interface AccountStatus {
  externalAccountId: string;
  phase: Phase;
  /** why the account is not collecting, when phase is "disabled" */
  disabledReason: string | null;
  /** messages delivered in the running cycle, of those it found to download */
  progress: { done: number; total: number } | null;
  /** how the last connection was protected */
  tls: TlsOutcome | null;
  lastRun: RunSummary | null;
  lastError: { kind: ErrorKind | 'unknown'; message: string; at: string } | null;
  nextRunAt: string | null;
  /** a Connect Now (or change) arrived during a cycle: one more cycle follows at once */
  rerunQueued: boolean;
  counts: { cycles: number; failedCycles: number; delivered: number; removed: number };
}

export interface ExternalAccountWorkflowInput {
  externalAccountId: string;
  /** carried over by continue-as-new */
  status?: AccountStatus;
}

export const connectNowSignal = defineSignal('connectNow');
export const configChangedSignal = defineSignal('configChanged');
export const stopSignal = defineSignal('stop');
export const statusQuery = defineQuery<AccountStatus>('status');
