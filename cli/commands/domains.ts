import type { DomainList } from '../../api/response-types';
import type { Command } from '../command';
import { table, yesNo } from '../output';
import { findDomain, type Domain } from '../resolve';
import { deleteCommand, enableCommands, showCommand, type Resource } from './resource';

const DOMAIN = { name: 'DOMAIN', required: true };

const describe = (d: Domain): string => `domain ${d.name} (${d.id}) ${d.enabled ? 'enabled' : 'disabled'}`;

const resource: Resource<Domain> = { group: 'domains', arg: DOMAIN, find: findDomain, describe };

export const domainCommands: Command[] = [
  {
    words: ['domains', 'add'],
    summary: 'Creates a local domain.',
    args: [{ name: 'NAME', required: true }],
    options: {
      disabled: { type: 'boolean', description: 'create it disabled' },
      'delivery-target': {
        type: 'string',
        value: 'ID',
        description: "deliver its accounts' mail to this delivery target (default: the built-in store)",
      },
    },
    needs: 'api',
    async run({ args, options, api }) {
      const target = options.string('delivery-target');
      const domain = await api().post<Domain>('/api/domains', {
        name: args[0],
        enabled: !options.flag('disabled'),
        ...(target ? { deliveryTargetId: target } : {}),
      });
      return { json: domain, text: `created ${describe(domain)}` };
    },
  },
  {
    words: ['domains', 'list'],
    summary: 'Lists the local domains.',
    needs: 'api',
    async run({ api }) {
      const { domains } = await api().get<DomainList>('/api/domains');
      const text = table(domains, [
        ['ID', (d) => d.id],
        ['NAME', (d) => d.name],
        ['ENABLED', (d) => yesNo(d.enabled)],
        ['DELIVERY', (d) => d.deliveryTargetId ?? 'store'],
      ]);
      return { json: domains, text };
    },
  },
  showCommand(resource, 'Shows one domain (by name or id).'),
  ...enableCommands(resource, {
    enable: 'Enables a domain: its accounts collect again.',
    disable: 'Disables a domain: no external account of its accounts downloads or deletes anything.',
  }),
  deleteCommand({ ...resource, label: (d) => `domain ${d.name}` }, 'Deletes a domain that has no accounts left.'),
];
