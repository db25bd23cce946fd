import { z } from 'zod';
import { count, named, timestamp } from './answers';

const auditEntry = named(
  'AuditEntry',
  z.object({
    id: z.string(),
    at: timestamp,
    tokenId: z.string(),
    action: z.string().meta({ description: 'method and path pattern, e.g. "PATCH /api/external-accounts/:id"' }),
    object: z.string(),
    fields: z.array(z.string()).meta({ description: 'the names of the fields the request set, never their values' }),
    status: z.number().int(),
  }),
);
export const auditPage = named('AuditPage', z.object({ total: count, entries: z.array(auditEntry), limit: count, offset: count }));
