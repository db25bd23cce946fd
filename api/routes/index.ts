import type { Resource } from '../route-contract';
import { accounts } from './accounts';
import { appendLogins } from './append-logins';
import { domains } from './domains';

/** Every resource of the API, in the document's order. */
export const RESOURCES: Resource[] = [domains, accounts, appendLogins];
