import type { DeliveryTarget } from '../core/delivery-target';
import type { OAuthSettings } from '../core/oauth';
import { putAppendLogin } from '../db/append-logins';
import { getTarget } from '../db/delivery-targets';
import { isInScope, type DomainScope } from '../db/domain-scope';
import { inTransaction, type Pool } from '../db/pool';
import type { Keyring } from '../secrets/keyring';
import { invalid } from './http-errors';

/**
 * The target a local account's own mailbox is linked behind, as the token sees it: an IMAP target
 * with imapLogin "oauth" (each recipient logs in with its own login). 400 naming deliveryTargetId otherwise.
 */
export async function appendLoginTarget(pool: Pool, targetId: string, scope: DomainScope): Promise<DeliveryTarget> {
  const target = await getTarget(pool, targetId);
  if (!target || !(await isInScope(pool, 'deliveryTarget', target.id, scope))) {
    throw invalid('deliveryTargetId', `delivery target ${targetId} does not exist`);
  }
  if (target.kind !== 'imap' || target.imapLogin !== 'oauth') {
    throw invalid('deliveryTargetId', 'must be an IMAP target with imapLogin "oauth" (each recipient logs in with its own login)');
  }
  return target;
}

/**
 * Links (or links again, after a revoked grant) the account's mailbox behind `target` with a new
 * grant, sealed bound to the target's server, the user and the token endpoint and client. Messages
 * held for the account go out at their next attempt.
 */
export async function linkAppendLogin(
  deps: { pool: Pool; keyring: Keyring },
  accountId: string,
  target: DeliveryTarget,
  login: { username: string; oauth: OAuthSettings },
  secrets: { refreshToken: string; clientSecret: string | null },
): Promise<void> {
  await inTransaction(deps.pool, (tx) =>
    putAppendLogin(tx, deps.keyring, accountId, target, { deliveryTargetId: target.id, ...login }, secrets),
  );
}
