import { ApplicationFailure } from '@temporalio/common';
import { createHmac } from 'node:crypto';
import { webhookAnswerOf } from '../core/webhook-answer';
import type { NetworkPolicy } from '../core/network-policy';
import type { WebhookEventDraft } from '../core/webhook-events';
import type { Pool } from '../db/pool';
import { loadWebhookSecret } from '../db/secrets';
import {
  accountNamesOf,
  deliveryToSend,
  giveUpDelivery,
  pruneDeliveries,
  recordAttempt,
  recordDeliveries,
  subscribedWebhooks,
  type DeliveryState,
} from '../db/webhooks';
import type { Keyring } from '../secrets/keyring';
import { typedFailures } from './failure';
import { postWebhook } from './webhook-post';

export interface WebhookTiming {
  /** first wait before a failed delivery is tried again; it doubles up to 10 minutes */
  retryMs: number;
  /** for one POST, from resolving its host to the answer's status */
  timeoutMs: number;
}

/** An event as the account workflow made it: its id and time are the workflow's. */
export interface WebhookEventInput extends WebhookEventDraft {
  id: string;
  at: string;
}

/** The deliveries of some events, each sent by a workflow of its own, and how to time them. */
export interface WebhookDispatch extends WebhookTiming {
  deliveryIds: string[];
}

/** The X-Mailpull-Signature header: the HMAC-SHA256 of the exact body, keyed with the webhook's secret. */
export const signatureOf = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Sending events to webhooks: only ids and counts cross Temporal; the URL and the secret are read here. */
export function createWebhookActivities({
  pool,
  keyring,
  timing,
  networkPolicy,
}: {
  pool: Pool;
  keyring: Keyring;
  timing: WebhookTiming;
  networkPolicy: NetworkPolicy;
}) {
  return {
    /**
     * Records one delivery per event and webhook that takes it, with the body it will send, and
     * returns their ids. Recording the same events again returns the same deliveries.
     */
    async dispatchWebhookEvents(accountId: string, events: WebhookEventInput[]): Promise<WebhookDispatch> {
      return typedFailures(async () => {
        const webhooks = await subscribedWebhooks(
          pool,
          events.map((e) => e.event),
        );
        if (webhooks.length === 0) return { deliveryIds: [], ...timing };
        const names = await accountNamesOf(pool, accountId);
        const externalAccount = { id: accountId, name: names?.name ?? null, owner: names?.owner ?? null };
        const deliveries = events.flatMap(({ id, event, at, data }) => {
          const body = JSON.stringify({ id, event, at, externalAccount, data });
          return webhooks
            .filter((w) => w.events.includes(event))
            .map((w) => ({ webhookId: w.id, eventId: id, event, externalAccountId: accountId, body }));
        });
        await pruneDeliveries(
          pool,
          webhooks.map((w) => w.id),
        );
        return { deliveryIds: await recordDeliveries(pool, deliveries), ...timing };
      });
    },

    /**
     * One attempt to POST a delivery. A 2xx answer delivers it; 408, 429, 5xx and no answer fail
     * the attempt (retried); any other answer, or a URL whose address the network policy refuses,
     * fails it for good. Each attempt is recorded.
     */
    async deliverWebhook(deliveryId: string): Promise<DeliveryState | 'gone'> {
      return typedFailures(async () => {
        const delivery = await deliveryToSend(pool, deliveryId);
        if (!delivery) return 'gone'; // the webhook was deleted
        if (delivery.state === 'delivered' || delivery.state === 'failed') return delivery.state;
        if (!delivery.enabled) {
          await giveUpDelivery(pool, deliveryId, 'the webhook was disabled');
          return 'failed';
        }
        const secret = await loadWebhookSecret(pool, keyring, delivery.webhookId);
        const reply = await postWebhook({
          url: delivery.url,
          body: delivery.body,
          headers: {
            'content-type': 'application/json',
            'user-agent': 'mailpull-webhooks',
            'x-mailpull-event': delivery.event,
            'x-mailpull-delivery': delivery.eventId,
            'x-mailpull-signature': signatureOf(secret, delivery.body),
          },
          timeoutMs: timing.timeoutMs,
          networkPolicy,
        });
        if (!reply.ok && reply.refused) {
          await recordAttempt(pool, deliveryId, { state: 'failed', status: null, error: reply.error });
          return 'failed';
        }
        if (!reply.ok) {
          await recordAttempt(pool, deliveryId, { state: 'retrying', status: null, error: reply.error });
          throw ApplicationFailure.retryable(reply.error, 'webhook_unavailable');
        }
        const answer = webhookAnswerOf(reply.status);
        const redirect = reply.status >= 300 && reply.status <= 399 ? ' (redirects are not followed)' : '';
        const error = answer === 'delivered' ? null : `HTTP ${reply.status} ${reply.statusText}`.trim() + redirect;
        const state = answer === 'delivered' ? 'delivered' : answer === 'refused' ? 'failed' : 'retrying';
        await recordAttempt(pool, deliveryId, { state, status: reply.status, error });
        if (state === 'retrying') throw ApplicationFailure.retryable(`the webhook answered ${error}`, 'webhook_unavailable');
        return state;
      });
    },

    /** The retries ran out (or an attempt could not be made at all): the delivery failed. */
    async giveUpWebhookDelivery(deliveryId: string, why: string): Promise<void> {
      return typedFailures(() => giveUpDelivery(pool, deliveryId, why));
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
