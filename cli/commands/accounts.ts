import type { Command } from '../command';
import { fields, table, yesNo } from '../output';
import { findAccount, findDomain, type Account } from '../resolve';

const ACCOUNT = { name: 'ACCOUNT', required: true };

const describe = (a: Account): string => `account ${a.address} (${a.id}) ${a.enabled ? 'enabled' : 'disabled'}`;

const setEnabled = (enabled: boolean): Command => ({
  words: ['accounts', enabled ? 'enable' : 'disable'],
  summary: enabled
    ? 'Enables a local account: its external accounts collect again.'
    : 'Disables a local account: its external accounts download and delete nothing.',
  args: [ACCOUNT],
  needs: 'api',
  async run({ args, api }) {
    const account = await findAccount(api(), args[0]);
    const updated = await api().patch<Account>(`/api/accounts/${account.id}`, { enabled });
    return { json: updated, text: describe(updated) };
  },
});

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
      const { accounts } = await api().get<{ accounts: Account[] }>(`/api/accounts${query}`);
      const text = table(accounts, [
        ['ID', (a) => a.id],
        ['ADDRESS', (a) => a.address],
        ['ENABLED', (a) => yesNo(a.enabled)],
      ]);
      return { json: accounts, text };
    },
  },
  {
    words: ['accounts', 'show'],
    summary: 'Shows one local account (by address or id).',
    args: [ACCOUNT],
    needs: 'api',
    async run({ args, api }) {
      const account = await findAccount(api(), args[0]);
      return { json: account, text: fields({ ...account }) };
    },
  },
  setEnabled(true),
  setEnabled(false),
  {
    words: ['accounts', 'delete'],
    summary: 'Deletes a local account that owns no external accounts.',
    args: [ACCOUNT],
    needs: 'api',
    async run({ args, api }) {
      const account = await findAccount(api(), args[0]);
      await api().delete(`/api/accounts/${account.id}`);
      return { json: { deleted: account.id }, text: `deleted account ${account.address} (${account.id})` };
    },
  },
];
