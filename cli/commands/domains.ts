import type { Command } from '../command';
import { fields, table, yesNo } from '../output';
import { findDomain, type Domain } from '../resolve';

const DOMAIN = { name: 'DOMAIN', required: true };

const describe = (d: Domain): string => `domain ${d.name} (${d.id}) ${d.enabled ? 'enabled' : 'disabled'}`;

const setEnabled = (enabled: boolean): Command => ({
  words: ['domains', enabled ? 'enable' : 'disable'],
  summary: enabled
    ? 'Enables a domain: its accounts collect again.'
    : 'Disables a domain: no external account of its accounts downloads or deletes anything.',
  args: [DOMAIN],
  needs: 'api',
  async run({ args, api }) {
    const domain = await findDomain(api(), args[0]);
    const updated = await api().patch<Domain>(`/api/domains/${domain.id}`, { enabled });
    return { json: updated, text: describe(updated) };
  },
});

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
      const { domains } = await api().get<{ domains: Domain[] }>('/api/domains');
      const text = table(domains, [
        ['ID', (d) => d.id],
        ['NAME', (d) => d.name],
        ['ENABLED', (d) => yesNo(d.enabled)],
        ['DELIVERY', (d) => d.deliveryTargetId ?? 'store'],
      ]);
      return { json: domains, text };
    },
  },
  {
    words: ['domains', 'show'],
    summary: 'Shows one domain (by name or id).',
    args: [DOMAIN],
    needs: 'api',
    async run({ args, api }) {
      const domain = await findDomain(api(), args[0]);
      return { json: domain, text: fields({ ...domain }) };
    },
  },
  setEnabled(true),
  setEnabled(false),
  {
    words: ['domains', 'delete'],
    summary: 'Deletes a domain that has no accounts left.',
    args: [DOMAIN],
    needs: 'api',
    async run({ args, api }) {
      const domain = await findDomain(api(), args[0]);
      await api().delete(`/api/domains/${domain.id}`);
      return { json: { deleted: domain.id }, text: `deleted domain ${domain.name} (${domain.id})` };
    },
  },
];
