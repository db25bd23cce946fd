import type { AccountStatus, DeliveryStatus, RunSummary } from './account-status';

/**
 * The one-word state an operator filters accounts by, derived from what the account's workflow
 * reports. Pure: the workflow uses it for its search attribute, the activity for the stored row.
 */
export const ACCOUNT_STATES = ['ok', 'failing', 'disabled', 'reauthorization_needed'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** What the state is derived from: fields of the account status. */
export type StateInputs = Pick<AccountStatus, 'phase'> & {
  lastRun: Pick<RunSummary, 'outcome'> | null;
  delivery: Pick<DeliveryStatus, 'backlog'> & { lastError: Pick<NonNullable<DeliveryStatus['lastError']>, 'message'> | null };
};

/** Failing: the last cycle failed, or a delivery target keeps refusing messages that wait for it. */
export function accountStateOf(status: StateInputs): AccountState {
  if (status.phase === 'disabled') return 'disabled';
  if (status.phase === 'reauthorization_needed') return 'reauthorization_needed';
  if (status.lastRun?.outcome === 'failed') return 'failing';
  if (status.delivery.lastError && status.delivery.backlog > 0) return 'failing';
  return 'ok';
}

/**
 * What an operator finds an account by in the Temporal UI, instead of the bare id: ids and the
 * server, never an address or a name (search attributes and the memo are not encrypted).
 */
export interface AccountLabels {
  ownerAccountId: string;
  domainId: string;
  host: string;
  protocol: 'pop3' | 'imap';
}
