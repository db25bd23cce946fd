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
  name: keyword('MailpullName'),
  owner: keyword('MailpullOwner'),
  host: keyword('MailpullHost'),
  protocol: keyword('MailpullProtocol'),
  state: keyword('MailpullState'),
} as const;

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
  return changes;
}

/** The memo differs from the labels: the Temporal UI shows the memo on the workflow's page. */
export const memoDiffers = (memo: Record<string, unknown> | undefined, labels: AccountLabels): boolean =>
  (Object.keys(labels) as (keyof AccountLabels)[]).some((k) => memo?.[k] !== labels[k]);
