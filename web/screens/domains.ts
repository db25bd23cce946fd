/** The local domains and accounts: add, enable, disable. */
import { api } from '../api';
import { action, enabledBadge, h, main, table } from '../dom';
import { field, form, input, valueOf } from '../forms';
import { every } from '../polling';
import { canWrite } from '../session';
import type { AccountList, DomainList } from '../types';

export function domainsScreen(): void {
  const domainList = h('div');
  const accountList = h('div');
  const write = canWrite();
  const load = async (): Promise<void> => {
    const [{ domains }, { accounts }] = await Promise.all([
      api<DomainList>('GET', '/api/domains'),
      api<AccountList>('GET', '/api/accounts'),
    ]);
    const toggle = (kind: 'domains' | 'accounts', item: { id: string; enabled: boolean }) =>
      write
        ? action(item.enabled ? 'Disable' : 'Enable', item.enabled ? 'disable' : 'enable', async () => {
            await api('PATCH', `/api/${kind}/${item.id}`, { enabled: !item.enabled });
            await load();
          })
        : null;
    domainList.replaceChildren(
      table(
        ['Domain', '', 'Accounts', ''],
        domains.map((d) =>
          h(
            'tr',
            { 'data-id': d.id },
            h('td', {}, d.name),
            h('td', {}, enabledBadge(d.enabled)),
            h('td', {}, accounts.filter((a) => a.domainId === d.id).length),
            h('td', {}, toggle('domains', d)),
          ),
        ),
        'No domains yet.',
      ),
    );
    accountList.replaceChildren(
      table(
        ['Account', '', ''],
        accounts.map((a) =>
          h(
            'tr',
            { 'data-id': a.id },
            h('td', {}, h('a', { href: `#/accounts/${a.id}` }, a.address)),
            h('td', {}, enabledBadge(a.enabled)),
            h('td', {}, toggle('accounts', a)),
          ),
        ),
        'No local accounts yet.',
      ),
    );
  };
  const create = (what: string, path: string, name: string, placeholder: string) =>
    form(
      `Add ${what}`,
      async (f) => {
        await api('POST', path, { [name]: valueOf(f, name) });
        (f.elements.namedItem(name) as HTMLInputElement).value = '';
        await load();
      },
      field(what === 'domain' ? 'Domain name' : 'Address', name, input({ placeholder })),
    );
  main().replaceChildren(
    h(
      'section',
      { class: 'card', id: 'domains' },
      h('h1', {}, 'Domains'),
      domainList,
      write ? create('domain', '/api/domains', 'name', 'example.com') : null,
    ),
    h(
      'section',
      { class: 'card', id: 'accounts' },
      h('h1', {}, 'Local accounts'),
      accountList,
      write ? create('account', '/api/accounts', 'address', 'alice@example.com') : null,
    ),
  );
  every(10_000, load);
}
