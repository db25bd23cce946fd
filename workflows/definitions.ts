import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AccountStatus } from '../core/account-status';

export const workflowIdFor = (externalAccountId: string): string => `external-account:${externalAccountId}`;

export interface ExternalAccountWorkflowInput {
  externalAccountId: string;
  /** carried over by continue-as-new */
  status?: AccountStatus;
}

export const connectNowSignal = defineSignal('connectNow');
export const configChangedSignal = defineSignal('configChanged');
export const stopSignal = defineSignal('stop');
export const statusQuery = defineQuery<AccountStatus>('status');
