import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../core/webhook-events';
import { named } from './answers';
import { queryInt } from './fields';

/** What /api/webhooks takes and answers. */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Why a URL cannot be a webhook's; null if it can. The answer's `field` is `url`. */
export function webhookUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (url.hostname === '') return 'must name a host';
  if (url.username !== '' || url.password !== '') {
    return 'must not carry a user name or password (it would be shown in every answer); receivers check the signature instead';
  }
  // stored as the parser writes it, which escapes what needs escaping
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters once escaped`;
  return null;
}

const url = z
  .string()
  .max(MAX_WEBHOOK_URL_LENGTH, { abort: true })
  .superRefine((text, ctx) => {
    const problem = webhookUrlProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ description: 'where the events are POSTed: http:// or https://, without a user name or password' });

const events = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1)
  .max(WEBHOOK_EVENTS.length * 2)
  .meta({ description: 'the events sent to the URL' });

export const createWebhook = z.strictObject({ url, events, enabled: z.boolean().default(true) });
export const updateWebhook = z
  .strictObject({
    url,
    events,
    enabled: z.boolean(),
    rotateSecret: z.boolean().meta({ description: 'true: replace the signing secret; the answer shows the new one, once' }),
  })
  .partial();
export const deliveriesQuery = z.object({ limit: queryInt(1, 200, 50) });

const timestamp = z.iso.datetime();
const uuid = z.uuid();
const webhookFields = {
  id: uuid,
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  enabled: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
};
const secret = z.string().meta({ description: 'signs every delivery (X-Mailpull-Signature); shown only in this answer' });

export const webhook = named('Webhook', z.object(webhookFields), 'a registered webhook; its signing secret is never shown again');
export const webhookList = named('WebhookList', z.object({ webhooks: z.array(webhook) }));
export const createdWebhook = named('CreatedWebhook', z.object({ ...webhookFields, secret }), 'the new webhook and its signing secret');
export const updatedWebhook = named(
  'UpdatedWebhook',
  z.object({ ...webhookFields, secret: secret.optional() }),
  'the webhook; with its new signing secret when rotateSecret was set',
);
export const webhookDelivery = named(
  'WebhookDelivery',
  z.object({
    id: uuid,
    eventId: uuid.meta({
      description: 'the X-Mailpull-Delivery header and the body\'s "id": the same for every webhook the event went to',
    }),
    event: z.enum(WEBHOOK_EVENTS),
    externalAccountId: uuid,
    state: z.enum(['pending', 'retrying', 'delivered', 'failed']),
    attempts: z.number().int().min(0),
    lastStatus: z.number().int().nullable().meta({ description: "the last answer's HTTP status; null when none came" }),
    lastError: z.string().nullable(),
    createdAt: timestamp,
    lastAttemptAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  }),
);
export const webhookDeliveryList = named('WebhookDeliveryList', z.object({ deliveries: z.array(webhookDelivery) }));
