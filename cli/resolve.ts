import type {
  Account,
  AccountList,
  DeliveryTargetList,
  Domain,
  DomainList,
  ExternalAccount,
  ExternalAccountList,
  ExternalAccountListItem,
} from '../api/response-types';
import type { ApiClient } from './api-client';
import { CommandError } from './errors';

export type { Account, Domain, ExternalAccount, ExternalAccountListItem };

/** Every external account the query selects, page after page. */
export async function listExternalAccounts(api: ApiClient, query: Record<string, string> = {}): Promise<ExternalAccountListItem[]> {
  const all: ExternalAccountListItem[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: '1000', ...(cursor ? { cursor } : {}) });
    const page: ExternalAccountList = await api.get(`/api/external-accounts?${params.toString()}`);
    all.push(...page.externalAccounts);
    cursor = page.nextCursor;
  } while (cursor);
  return all;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);

/** One item found by its id or by a unique name, or an error that says which. */
function pick<T extends { id: string }>(items: T[], key: string, nameOf: (t: T) => string, what: string): T {
  const byId = items.find((i) => i.id === key);
  if (byId) return byId;
  const named = items.filter((i) => nameOf(i).toLowerCase() === key.toLowerCase());
  if (named.length === 1) return named[0];
  if (named.length > 1)
    throw new CommandError(`${named.length} ${what}s are named "${key}"; give the id: ${named.map((n) => n.id).join(', ')}`);
  throw new CommandError(`no ${what} "${key}"`);
}

export async function findDomain(api: ApiClient, key: string): Promise<Domain> {
  if (isUuid(key)) return api.get<Domain>(`/api/domains/${key}`);
  return pick((await api.get<DomainList>('/api/domains')).domains, key, (d) => d.name, 'domain');
}

export async function findAccount(api: ApiClient, key: string): Promise<Account> {
  if (isUuid(key)) return api.get<Account>(`/api/accounts/${key}`);
  return pick((await api.get<AccountList>('/api/accounts')).accounts, key, (a) => a.address, 'account');
}

export async function findExternalAccount(api: ApiClient, key: string): Promise<ExternalAccount> {
  if (isUuid(key)) return api.get<ExternalAccount>(`/api/external-accounts/${key}`);
  return pick(await listExternalAccounts(api), key, (e) => e.name, 'external account');
}

export type DeliveryTarget = DeliveryTargetList['deliveryTargets'][number];

export async function findDeliveryTarget(api: ApiClient, key: string): Promise<DeliveryTarget> {
  return pick((await api.get<DeliveryTargetList>('/api/delivery-targets')).deliveryTargets, key, (t) => t.name, 'delivery target');
}
