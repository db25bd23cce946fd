import type { Resource } from '../route-contract';
import { accounts } from './accounts';
import { appendLogins } from './append-logins';
import { deliveryTargets } from './delivery-targets';
import { domains } from './domains';
import { externalAccounts } from './external-accounts';
import { quarantine } from './quarantine';

/** Every resource of the API, in the document's order. */
export const RESOURCES: Resource[] = [domains, accounts, appendLogins, externalAccounts, deliveryTargets, quarantine];
