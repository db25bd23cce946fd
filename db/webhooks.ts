import type { WebhookEventName } from '../core/webhook-events';
import type { Queryable } from './pool';

/** A registered webhook as the API shows it: never its secret. */
export interface Webhook {
  id: string;
  url: string;
  events: WebhookEventName[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type WebhookSettings = Pick<Webhook, 'url' | 'events' | 'enabled'>;

export type DeliveryState = 'pending' | 'retrying' | 'delivered' | 'failed';

/** One event for one webhook and how its delivery went: what GET /api/webhooks/:id/deliveries lists. */
export interface WebhookDelivery {
  id: string;
  /** the X-Mailpull-Delivery header: the same for every webhook the event went to */
  eventId: string;
  event: WebhookEventName;
  externalAccountId: string;
  state: DeliveryState;
  attempts: number;
  /** the HTTP status of the last answer; null when none came (timeout, refused connection) */
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  lastAttemptAt: Date | null;
  finishedAt: Date | null;
}

/** What the delivery activity needs to send one: the stored body and where it goes. */
export interface DeliveryToSend {
  id: string;
  webhookId: string;
  eventId: string;
  event: WebhookEventName;
  body: string;
  state: DeliveryState;
  attempts: number;
  url: string;
  enabled: boolean;
}

const COLUMNS = 'id, url, events, enabled, created_at AS "createdAt", updated_at AS "updatedAt"';

const DELIVERY_COLUMNS = `id, event_id AS "eventId", event, external_account_id AS "externalAccountId", state, attempts,
  last_status AS "lastStatus", last_error AS "lastError", created_at AS "createdAt", last_attempt_at AS "lastAttemptAt",
  finished_at AS "finishedAt"`;

export async function insertWebhook(db: Queryable, settings: WebhookSettings): Promise<Webhook> {
  const { rows } = await db.query<Webhook>(`INSERT INTO webhooks (url, events, enabled) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`, [
    settings.url,
    settings.events,
    settings.enabled,
  ]);
  return rows[0];
}

export async function updateWebhook(db: Queryable, id: string, settings: WebhookSettings): Promise<Webhook | null> {
  const { rows } = await db.query<Webhook>(
    `UPDATE webhooks SET url = $2, events = $3, enabled = $4, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, settings.url, settings.events, settings.enabled],
  );
  return rows[0] ?? null;
}

export async function getWebhook(db: Queryable, id: string): Promise<Webhook | null> {
  return (await db.query<Webhook>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id])).rows[0] ?? null;
}

export async function listWebhooks(db: Queryable): Promise<Webhook[]> {
  return (await db.query<Webhook>(`SELECT ${COLUMNS} FROM webhooks ORDER BY created_at, id`)).rows;
}

export async function countWebhooks(db: Queryable): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhooks')).rows[0].n;
}

export async function deleteWebhook(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM webhooks WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

/** The enabled webhooks that take at least one of the events. */
export async function subscribedWebhooks(
  db: Queryable,
  events: readonly WebhookEventName[],
): Promise<{ id: string; events: WebhookEventName[] }[]> {
  return (
    await db.query<{ id: string; events: WebhookEventName[] }>('SELECT id, events FROM webhooks WHERE enabled AND events && $1::text[]', [
      events,
    ])
  ).rows;
}

export interface NewDelivery {
  webhookId: string;
  eventId: string;
  event: WebhookEventName;
  externalAccountId: string;
  body: string;
}

/**
 * Records the deliveries and returns the ids of every delivery of these events, those recorded by
 * an earlier attempt too: recording them again changes nothing.
 */
export async function recordDeliveries(db: Queryable, deliveries: readonly NewDelivery[]): Promise<string[]> {
  if (deliveries.length === 0) return [];
  await db.query(
    `INSERT INTO webhook_deliveries (webhook_id, event_id, event, external_account_id, body)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[])
     ON CONFLICT (event_id, webhook_id) DO NOTHING`,
    [
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.eventId),
      deliveries.map((d) => d.event),
      deliveries.map((d) => d.externalAccountId),
      deliveries.map((d) => d.body),
    ],
  );
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM webhook_deliveries WHERE event_id = ANY($1::uuid[]) ORDER BY created_at, id',
    [[...new Set(deliveries.map((d) => d.eventId))]],
  );
  return rows.map((r) => r.id);
}

/** Finished deliveries older than this are deleted when the webhook gets new ones. */
export const DELIVERY_RETENTION_DAYS = 30;

export async function pruneDeliveries(db: Queryable, webhookIds: readonly string[]): Promise<void> {
  await db.query(
    `DELETE FROM webhook_deliveries
      WHERE webhook_id = ANY($1::uuid[]) AND created_at < now() - make_interval(days => $2) AND state IN ('delivered', 'failed')`,
    [webhookIds, DELIVERY_RETENTION_DAYS],
  );
}

export async function deliveryToSend(db: Queryable, deliveryId: string): Promise<DeliveryToSend | null> {
  const { rows } = await db.query<DeliveryToSend>(
    `SELECT d.id, d.webhook_id AS "webhookId", d.event_id AS "eventId", d.event, d.body, d.state, d.attempts, w.url, w.enabled
       FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`,
    [deliveryId],
  );
  return rows[0] ?? null;
}

export interface AttemptResult {
  state: Exclude<DeliveryState, 'pending'>;
  status: number | null;
  error: string | null;
}

/** One more attempt and its result; a delivery that finished stays as it finished. */
export async function recordAttempt(db: Queryable, deliveryId: string, result: AttemptResult): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries
        SET attempts = attempts + 1, state = $2, last_status = $3, last_error = $4, last_attempt_at = now(),
            finished_at = CASE WHEN $2 IN ('delivered', 'failed') THEN now() END
      WHERE id = $1 AND state IN ('pending', 'retrying')`,
    [deliveryId, result.state, result.status, result.error],
  );
}

/** Gives up a delivery still being retried; its last error says why, after the last attempt's. */
export async function giveUpDelivery(db: Queryable, deliveryId: string, why: string): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries
        SET state = 'failed', finished_at = now(),
            last_error = CASE WHEN last_error IS NULL THEN $2 ELSE $2 || ': ' || last_error END
      WHERE id = $1 AND state IN ('pending', 'retrying')`,
    [deliveryId, why],
  );
}

/** A webhook's deliveries, newest first. */
export async function listDeliveries(db: Queryable, webhookId: string, limit: number): Promise<WebhookDelivery[]> {
  return (
    await db.query<WebhookDelivery>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [webhookId, limit],
    )
  ).rows;
}

/** What an event calls the account by; null when it was deleted meanwhile. */
export async function accountNamesOf(db: Queryable, externalAccountId: string): Promise<{ name: string; owner: string } | null> {
  const { rows } = await db.query<{ name: string; owner: string }>(
    'SELECT e.name, a.address AS owner FROM external_accounts e JOIN accounts a ON a.id = e.owner_account_id WHERE e.id = $1',
    [externalAccountId],
  );
  return rows[0] ?? null;
}
