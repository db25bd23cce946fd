import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributeUpdatePair,
  type TypedSearchAttributes,
} from '@temporalio/common';
import type { AccountLabels, AccountState } from '../core/account-state';

const keyword = (name: string) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);

/**
 * The account workflow's custom search attributes. A namespace must have them registered before a
 * workflow may set them: scripts/temporal.sh does it for the dev server, docs/operations.md
 * says how for a cluster, and a unit test holds both to this list.
 */
export const SEARCH_ATTRIBUTES = {
  ownerAccountId: keyword('MailpullOwnerId'),
  domainId: keyword('MailpullDomainId'),
  host: keyword('MailpullHost'),
  protocol: keyword('MailpullProtocol'),
  state: keyword('MailpullState'),
} as const;

/**
 * Attributes workflows set before they held ids only: the account's name and the owner's address.
 * Removed from a workflow that still has them (a namespace that has them registered).
 */
const RETIRED = [keyword('MailpullName'), keyword('MailpullOwner')];

const MEMO_FIELDS: readonly (keyof AccountLabels)[] = ['ownerAccountId', 'domainId', 'host', 'protocol'];

/** Memo fields of the same time, removed likewise. */
const RETIRED_MEMO = ['name', 'owner'];

/** The search attributes that differ from the ones the workflow has now (none: nothing to upsert). */
export function searchAttributeChanges(
  current: TypedSearchAttributes,
  labels: AccountLabels,
  state: AccountState,
): SearchAttributeUpdatePair[] {
  const wanted = { ...labels, state };
  const changes: SearchAttributeUpdatePair[] = [];
  for (const field of Object.keys(SEARCH_ATTRIBUTES) as (keyof typeof SEARCH_ATTRIBUTES)[]) {
    const key = SEARCH_ATTRIBUTES[field];
    if (current.get(key) !== wanted[field]) changes.push({ key, value: wanted[field] });
  }
  for (const key of RETIRED) if (current.get(key) !== undefined) changes.push({ key, value: null });
  return changes;
}

/**
 * What to upsert so the memo (the Temporal UI shows it on the workflow's page) holds the labels and
 * no retired field; null when it does already.
 */
export function memoUpdate(memo: Record<string, unknown> | undefined, labels: AccountLabels): Record<string, unknown> | null {
  // the fields named here only: labels in older histories carry the retired ones
  const wanted = Object.fromEntries(MEMO_FIELDS.map((k) => [k, labels[k]]));
  const retired = RETIRED_MEMO.filter((k) => memo?.[k] !== undefined);
  const differs = MEMO_FIELDS.some((k) => memo?.[k] !== wanted[k]);
  return differs || retired.length > 0 ? { ...wanted, ...Object.fromEntries(retired.map((k) => [k, null])) } : null;
}
