import { fullPath, type Resource } from '../route-contract';
import { accounts } from './accounts';
import { appendLogins } from './append-logins';
import { audit } from './audit';
import { deliveryTargets } from './delivery-targets';
import { domains } from './domains';
import { externalAccounts } from './external-accounts';
import { oauth, oauthCallback } from './oauth';
import { quarantine } from './quarantine';
import { service } from './service';
import { webhooks } from './webhooks';

/** Every resource of the API, in the document's order. */
export const RESOURCES: Resource[] = [
  service,
  domains,
  accounts,
  appendLogins,
  externalAccounts,
  deliveryTargets,
  quarantine,
  audit,
  webhooks,
  oauth,
  oauthCallback,
];

/** The routes that create an object: each takes an Idempotency-Key (api/idempotency.ts). */
export const CREATE_PATHS: string[] = RESOURCES.flatMap((resource) =>
  Object.values(resource.routes)
    .filter((route) => route.idempotent)
    .map((route) => fullPath(resource, route)),
);
