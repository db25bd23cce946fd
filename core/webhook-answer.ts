/**
 * What a webhook receiver's HTTP status means for the delivery: 2xx delivered; 408, 429 and 5xx
 * tried again later; anything else (4xx, and 3xx: redirects are not followed) refused for good.
 */
export type WebhookAnswer = 'delivered' | 'retry' | 'refused';

export function webhookAnswerOf(status: number): WebhookAnswer {
  if (status >= 200 && status <= 299) return 'delivered';
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return 'retry';
  return 'refused';
}
