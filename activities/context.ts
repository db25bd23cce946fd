import type { DeliveryBacklog } from '../core/account-status';
import type { BatchLimits } from '../core/download-plan';
import type { NetworkPolicy } from '../core/network-policy';
import type { StoredExternalAccount } from '../db/external-accounts';
import { backlogOf } from '../db/held-messages';
import type { Pool } from '../db/pool';
import type { MailSession, MailSource } from '../mail/source';
import type { TargetClients } from '../mail/targets/target-clients';
import type { Keyring } from '../secrets/keyring';
import { withAccountSession } from './account-session';
import { createCredentials, type Credentials } from './credentials';
import type { DeliveryDeps } from './delivery/record';
import type { WebhookTiming } from './webhooks';

export interface ActivityDeps {
  /** short queries and transactions */
  pool: Pool;
  /** the connections that hold account locks, one per running activity (see db/account-lock.ts) */
  lockPool: Pool;
  keyring: Keyring;
  /** where protocol traces go (MAILPULL_PROTOCOL_TRACE) */
  trace?: (line: string) => void;
  sources: Record<StoredExternalAccount['protocol'], MailSource>;
  /** pooled connections to the delivery targets, for the life of the worker */
  targets: TargetClients;
  /** first wait before a held message is tried again */
  deliveryRetryMs: number;
  /** maxMessageBytes is the global size limit; an account may set its own */
  limits: BatchLimits;
  /** how many messages (and bytes) one delivery transaction holds at most */
  commitLimits: { messages: number; bytes: number };
  push: { timeoutMs: number; idleRestartMs: number };
  webhooks: WebhookTiming;
  /** which addresses the token endpoints, the IMAP servers watched for push and webhook URLs may have */
  networkPolicy: NetworkPolicy;
}

/** The dependencies, and what the activities build from them once per worker. */
export interface ActivityContext extends ActivityDeps {
  delivery: DeliveryDeps;
  credentials: Credentials;
  /** runs work on a logged-in session of the account, holding its lock */
  session: <T>(accountId: string, work: (mail: MailSession, account: StoredExternalAccount) => Promise<T>) => Promise<T>;
  /** the largest message the account downloads */
  sizeLimit: (account: { maxMessageBytes: number | null }) => number;
  /** what the account holds for a delivery target, as the status shows it */
  backlog: (accountId: string) => Promise<DeliveryBacklog>;
}

export function activityContext(deps: ActivityDeps): ActivityContext {
  const { pool, lockPool, keyring, sources, limits } = deps;
  const credentials = createCredentials({
    pool,
    keyring,
    timeoutMs: deps.push.timeoutMs,
    networkPolicy: deps.networkPolicy,
    defaultMaxMessageBytes: limits.maxMessageBytes,
    trace: deps.trace,
  });
  return {
    ...deps,
    delivery: { pool, keyring, targets: deps.targets, retryBaseMs: deps.deliveryRetryMs },
    credentials,
    session: (accountId, work) => withAccountSession({ pool, lockPool, keyring, sources, credentials }, accountId, work),
    // an account's own limit saved before it was checked against the global one may be larger
    sizeLimit: (account) => Math.min(account.maxMessageBytes ?? limits.maxMessageBytes, limits.maxMessageBytes),
    backlog: async (accountId) => {
      const b = await backlogOf(pool, accountId);
      return { backlog: b.backlog, quarantined: b.quarantined, nextAttemptAt: b.nextAttemptAt?.toISOString() ?? null };
    },
  };
}
