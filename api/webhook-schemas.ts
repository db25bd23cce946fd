/** What /api/webhooks takes and answers: api/schemas/webhooks.ts. */
export * from './schemas/webhooks';
