import { z } from 'zod';
import { isDomainName } from '../text-checks';
import { named, timestamp, answerUuid } from './answers';
import { DOMAIN_NAME_PATTERN, text, uuid } from './fields';

// Labels of a domain name: letters, digits, hyphens; at least one dot.
const domainName = text(253)
  .trim()
  .min(3)
  .refine(isDomainName, 'must be a domain name like example.com')
  .meta({ pattern: DOMAIN_NAME_PATTERN });

/** null: the built-in store */
const deliveryTargetId = uuid.nullable();

export const createDomain = z.strictObject({
  name: domainName,
  enabled: z.boolean().default(true),
  deliveryTargetId: deliveryTargetId.default(null),
});
export const updateDomain = z.strictObject({ enabled: z.boolean(), deliveryTargetId }).partial();

export const domain = named(
  'Domain',
  z.object({
    id: answerUuid,
    name: z.string(),
    enabled: z.boolean(),
    deliveryTargetId: answerUuid.nullable().meta({ description: "where its accounts' mail goes; null: the built-in store" }),
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);
export const domainList = named('DomainList', z.object({ domains: z.array(domain) }));
