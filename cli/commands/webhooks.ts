import type { z } from 'zod';
import type { updatedWebhook, webhookDeliveryList, webhookList } from '../../api/webhook-schemas';
import { WEBHOOK_EVENTS } from '../../core/webhook-events';
import type { ApiClient } from '../api-client';
import type { Command } from '../command';
import { table, yesNo } from '../output';
import { deleteCommand, enableCommands, showCommand, type Resource } from './resource';

/** A webhook as the API answers it; with its signing secret in the answers that show it, once. */
type Webhook = z.infer<typeof updatedWebhook>;

const WEBHOOK = { name: 'ID', required: true };

const describe = (w: Webhook): string => `webhook ${w.id} → ${w.url} (${w.events.join(', ')}) ${w.enabled ? 'enabled' : 'disabled'}`;

const resource: Resource<Webhook> = {
  group: 'webhooks',
  arg: WEBHOOK,
  find: (api: ApiClient, id: string) => api.get<Webhook>(`/api/webhooks/${encodeURIComponent(id)}`),
  describe,
};

/** The secret is shown once: the text says so, where people read it. */
const withSecret = (w: Webhook): string =>
  `${describe(w)}\nsecret ${w.secret ?? '-'}\n(shown only now: receivers verify X-Mailpull-Signature with it)`;

export const webhookCommands: Command[] = [
  {
    words: ['webhooks', 'add'],
    summary: `Registers a URL that receives account events as signed JSON POSTs.\nPrints the signing secret, this once.\nEvents: ${WEBHOOK_EVENTS.join(', ')}.\nNeeds an admin token that is not limited to some domains, as every webhooks command.`,
    args: [{ name: 'URL', required: true }],
    options: {
      event: { type: 'string', value: 'EVENT', description: 'an event to send (default: all)', multiple: true },
      disabled: { type: 'boolean', description: 'register it disabled' },
    },
    needs: 'api',
    async run({ args, options, api }) {
      const events = options.strings('event');
      const webhook = await api().post<Webhook>('/api/webhooks', {
        url: args[0],
        events: events.length > 0 ? events : WEBHOOK_EVENTS,
        enabled: !options.flag('disabled'),
      });
      return { json: webhook, text: `created ${withSecret(webhook)}` };
    },
  },
  {
    words: ['webhooks', 'list'],
    summary: 'Lists the webhooks.',
    needs: 'api',
    async run({ api }) {
      const { webhooks } = await api().get<z.infer<typeof webhookList>>('/api/webhooks');
      const text = table(webhooks, [
        ['ID', (w) => w.id],
        ['URL', (w) => w.url],
        ['EVENTS', (w) => w.events.join(',')],
        ['ENABLED', (w) => yesNo(w.enabled)],
      ]);
      return { json: webhooks, text };
    },
  },
  showCommand(resource, 'Shows one webhook (never its secret).'),
  ...enableCommands(resource, {
    enable: 'Enables a webhook: it receives events again.',
    disable: 'Disables a webhook: it receives no new events, and those on their way fail.',
  }),
  {
    words: ['webhooks', 'rotate-secret'],
    summary: 'Replaces the signing secret of a webhook and prints the new one, this once.',
    args: [WEBHOOK],
    needs: 'api',
    async run({ args, api }) {
      const webhook = await api().patch<Webhook>(`/api/webhooks/${encodeURIComponent(args[0])}`, { rotateSecret: true });
      return { json: webhook, text: withSecret(webhook) };
    },
  },
  {
    words: ['webhooks', 'deliveries'],
    summary: 'The events sent to a webhook and how each delivery went, newest first.',
    args: [WEBHOOK],
    options: { limit: { type: 'string', value: 'N', description: 'at most N deliveries (default 50, at most 200)' } },
    needs: 'api',
    async run({ args, options, api }) {
      const limit = options.integer('limit', 1, 200);
      const query = limit === undefined ? '' : `?limit=${limit}`;
      const { deliveries } = await api().get<z.infer<typeof webhookDeliveryList>>(
        `/api/webhooks/${encodeURIComponent(args[0])}/deliveries${query}`,
      );
      const text = table(deliveries, [
        ['CREATED', (d) => d.createdAt],
        ['EVENT', (d) => d.event],
        ['ACCOUNT', (d) => d.externalAccountId],
        ['STATE', (d) => d.state],
        ['ATTEMPTS', (d) => String(d.attempts)],
        ['STATUS', (d) => (d.lastStatus === null ? '-' : String(d.lastStatus))],
        ['ERROR', (d) => d.lastError ?? '-'],
      ]);
      return { json: deliveries, text };
    },
  },
  deleteCommand({ ...resource, label: (w) => `webhook ${w.url}` }, 'Deletes a webhook and its deliveries.'),
];
