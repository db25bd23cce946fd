import type { AccountList } from '../../api/response-types';
import type { Command } from '../command';
import { UsageError } from '../errors';
import { table, yesNo } from '../output';
import { findAccount, findDeliveryTarget, findDomain, type Account } from '../resolve';
import { deleteCommand, enableCommands, showCommand, type Resource } from './resource';
import { SIGN_IN_OPTIONS, signInChoice, signInFlow } from './sign-in';

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
  {
    words: ['accounts', 'link-mailbox'],
    summary:
      "Links the account's own mailbox at Google, Microsoft (or another provider) by signing in there: the account's mail is then\n" +
      'delivered into it by the IMAP target (imapLogin "oauth") given. Device authorization where offered, else a URL and a loopback redirect.',
    args: [ACCOUNT],
    options: {
      ...SIGN_IN_OPTIONS,
      target: { type: 'string', value: 'TARGET', description: 'the IMAP delivery target (name or id) the mailbox is behind; required' },
      username: { type: 'string', value: 'ADDRESS', description: "the mailbox's address at the provider; required" },
    },
    needs: 'api',
    async run({ args, options, api, progress }) {
      const usage = (): string =>
        'usage: mailpull accounts link-mailbox ACCOUNT --provider P --target TARGET --username ADDRESS [--loopback [--loopback-port N]]';
      const { provider, how } = signInChoice(options, usage);
      const targetKey = options.string('target');
      const username = options.string('username');
      if (!targetKey) throw new UsageError('missing option --target', usage());
      if (!username) throw new UsageError('missing option --username', usage());
      const account = await findAccount(api(), args[0]);
      const target = await findDeliveryTarget(api(), targetKey);
      const view = await signInFlow(api(), provider, { localAccountId: account.id, deliveryTargetId: target.id, username }, how, progress);
      if (view.status !== 'done') {
        return { json: view, text: `sign-in ${view.status}: ${view.message ?? 'the provider did not complete it in time'}`, failed: true };
      }
      return { json: view, text: `linked: mail of ${account.address} is delivered into ${username} through ${target.name}` };
    },
  },
  showCommand(resource, 'Shows one local account (by address or id).'),
  ...enableCommands(resource, {
    enable: 'Enables a local account: its external accounts collect again.',
    disable: 'Disables a local account: its external accounts download and delete nothing.',
  }),
  deleteCommand({ ...resource, label: (a) => `account ${a.address}` }, 'Deletes a local account that owns no external accounts.'),
];
