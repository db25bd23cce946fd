import type { NetworkPolicy } from '../core/network-policy';
import type { Pool } from '../db/pool';
import type { Keyring } from '../secrets/keyring';
import type { WorkflowControl } from './workflow-control';

export interface ApiLimits {
  /** a larger request body is answered 413 */
  maxBodyBytes: number;
  /** requests per minute per API token (and as a burst), then 429 with Retry-After */
  requestsPerMinute: number;
  /** failed authentications per minute from one client address (an IPv6 /64), then 429; default MAILPULL_API_AUTH_FAILURE_LIMIT's */
  authFailuresPerMinute?: number;
  /** the global size limit (MAILPULL_MAX_MESSAGE_BYTES, default its default): an account's own may not be larger */
  maxMessageBytes?: number;
}

export interface ApiDeps {
  pool: Pool;
  keyring: Keyring;
  workflows: WorkflowControl;
  limits: ApiLimits;
  /** hosts and sockets the worker would refuse are refused at creation already (400 naming the field) */
  networkPolicy: NetworkPolicy;
  /** the API's address as browsers reach it (MAILPULL_PUBLIC_URL): the OAuth redirect URI; unset: the address a request came to */
  publicUrl?: string | null;
}
