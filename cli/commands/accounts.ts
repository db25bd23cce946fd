import type { AccountList } from '../../api/response-types';
import type { Command } from '../command';
import { table, yesNo } from '../output';
import { findAccount, findDomain, type Account } from '../resolve';
import { deleteCommand, enableCommands, showCommand, type Resource } from './resource';

const ACCOUNT = { name: 'ACCOUNT', required: true };

const describe = (a: Account): string => `account ${a.address} (${a.id}) ${a.enabled ? 'enabled' : 'disabled'}`;

const resource: Resource<Account> = { group: 'accounts', arg: ACCOUNT, find: findAccount, describe };

export const accountCommands: Command[] = [
  {
    words: ['accounts', 'add'],
    summary: 'Creates a local account (a mailbox) in an existing domain.',
    args: [{ name: 'ADDRESS', required: true }],
    options: { disabled: { type: 'boolean', description: 'create it disabled' } },
    needs: 'api',
    async run({ args, options, api }) {
      const account = await api().post<Account>('/api/accounts', { address: args[0], enabled: !options.flag('disabled') });
      return { json: account, text: `created ${describe(account)}` };
    },
  },
  {
    words: ['accounts', 'list'],
    summary: 'Lists the local accounts.',
    options: { domain: { type: 'string', value: 'DOMAIN', description: 'only those of this domain (name or id)' } },
    needs: 'api',
    async run({ options, api }) {
      const domainKey = options.string('domain');
      const query = domainKey ? `?domainId=${(await findDomain(api(), domainKey)).id}` : '';
      const { accounts } = await api().get<AccountList>(`/api/accounts${query}`);
      const text = table(accounts, [
        ['ID', (a) => a.id],
        ['ADDRESS', (a) => a.address],
        ['ENABLED', (a) => yesNo(a.enabled)],
      ]);
      return { json: accounts, text };
    },
  },
  showCommand(resource, 'Shows one local account (by address or id).'),
  ...enableCommands(resource, {
    enable: 'Enables a local account: its external accounts collect again.',
    disable: 'Disables a local account: its external accounts download and delete nothing.',
  }),
  deleteCommand({ ...resource, label: (a) => `account ${a.address}` }, 'Deletes a local account that owns no external accounts.'),
];
