import { z } from 'zod';
import { count, named, timestamp, answerUuid } from './answers';
import { MAX_OFFSET, queryInt, text, uuid } from './fields';

const heldId = text(18).regex(/^[1-9][0-9]{0,17}$/, 'must be a quarantine id (a positive number)');
export const heldIdParam = z.object({ id: heldId });

export const quarantineQuery = z.object({
  externalAccountId: uuid.optional(),
  state: z.enum(['quarantined', 'pending']).default('quarantined'),
  limit: queryInt(1, 1000, 100),
  offset: queryInt(0, MAX_OFFSET, 0),
});

export const heldMessage = named(
  'HeldMessage',
  z.object({
    id: z.string(),
    externalAccountId: answerUuid,
    sourceFolder: z.string(),
    sourceUid: z.string(),
    localFolder: z.string(),
    size: count,
    internalDate: timestamp,
    flags: z.array(z.string()),
    envelopeFrom: z.string(),
    subject: z.string().nullable(),
    from: z.string().nullable(),
    messageId: z.string().nullable(),
    state: z.enum(['quarantined', 'pending']),
    reason: z.string(),
    attempts: count,
    nextAttemptAt: timestamp,
    createdAt: timestamp,
    quarantinedAt: timestamp.nullable(),
    recipients: z.array(
      z.object({ accountId: answerUuid, address: z.string(), state: z.enum(['pending', 'rejected']), response: z.string() }),
    ),
  }),
);
export const heldPage = named('HeldPage', z.object({ total: count, messages: z.array(heldMessage) }));
