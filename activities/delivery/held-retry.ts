import type { PoolClient } from 'pg';
import type { DeliveryBacklog, HeldSummary } from '../../core/account-status';
import {
  deliveryRetryDelayMs,
  dispositionOf,
  HOLD_LIMIT_DAYS,
  HOLD_LIMIT_MS,
  nextAttemptAt,
  type RecipientOutcome,
} from '../../core/delivery-outcome';
import { classifyError } from '../../core/errors';
import { addTally, emptyTally, type Tally } from '../../core/tally';
import { acceptedKey, acceptedRecipients } from '../../db/deliveries';
import type { StoredExternalAccount } from '../../db/external-accounts';
import { pendingHeld, recordHeldAttempt, type HeldMessage } from '../../db/held-messages';
import { inTransaction } from '../../db/pool';
import { markHeldDone } from '../../db/uid-index';
import { heartbeating } from '../heartbeat';
import { commitRecipients } from './commit';
import { isTransient, reasonOf, type CommitContext, type DeliveryDeps, type Letter, type SentRecord } from './record';
import { sendToTargets } from './send';

/*
 * Held messages, tried again. A target that answers "later" (or cannot be reached) leaves the
 * message in held_messages (db/held-messages.ts), and on the remote server, until a target takes
 * it; the waits between attempts and the hold limit are core/delivery-outcome.ts. The workflow
 * tries the held messages at the start of each cycle and whenever they are due between cycles
 * (waitRetryingHeld in workflows/external-account.ts); the API retries one from quarantine
 * (api/routes/quarantine.ts) and wakes the accounts holding messages when a target changes
 * (api/routes/delivery-targets.ts).
 */

export type HeldOutcome = Tally & {
  lastReason: string | null;
  /** a target could not be reached at all: new mail for it would only be held too */
  targetDown: boolean;
};

/** A held message's record: the letter to its recipients still pending. */
interface HeldRecord {
  held: HeldMessage;
  letter: Letter;
}

/**
 * Tries again the held messages of an account: those due (between cycles) or all of them (at the
 * start of a cycle), a commit group at a time, until none is left, a target cannot be reached, or
 * a whole group is still held (the rest would likely be too; they are tried again when due).
 */
export async function retryHeld(
  deps: DeliveryDeps,
  account: StoredExternalAccount,
  scope: 'due' | 'all',
  commitLimits: { messages: number; bytes: number },
  backlog: () => Promise<DeliveryBacklog>,
): Promise<HeldSummary> {
  const summary: HeldSummary = { ...emptyTally(), deliveryError: null, targetDown: false, backlog: await backlog() };
  const limits = { all: scope === 'all', maxMessages: commitLimits.messages, maxBytes: commitLimits.bytes };
  const seen = new Set<string>();
  await heartbeating(
    () => summary,
    async () => {
      for (;;) {
        const due = (await pendingHeld(deps.pool, account.id, limits)).filter((h) => !seen.has(h.id));
        if (due.length === 0) break;
        for (const h of due) seen.add(h.id);
        const outcome = await deliverHeld(deps, account, due);
        addTally(summary, outcome);
        summary.deliveryError = outcome.lastReason ?? summary.deliveryError;
        summary.targetDown ||= outcome.targetDown;
        if (outcome.targetDown || (outcome.held > 0 && outcome.delivered === 0)) break;
      }
    },
  );
  summary.backlog = await backlog();
  return summary;
}

/**
 * Tries again the held messages' pending recipients, on the routes they have now (an admin may
 * have fixed or changed the target), leaving out those a target accepted already. A message every
 * recipient has is released; one with only refusals left, or held past the limit, goes to
 * quarantine; the rest waits a little longer. Each message's writes are their own savepoint: one
 * the database refuses waits alone, and what the targets accepted stays recorded.
 */
async function deliverHeld(deps: DeliveryDeps, account: StoredExternalAccount, held: readonly HeldMessage[]): Promise<HeldOutcome> {
  const accepted = await acceptedRecipients(
    deps.pool,
    account.id,
    held.map((h) => h.ref),
  );
  const records = held.map((h): HeldRecord => ({
    held: h,
    letter: {
      ref: h.ref,
      raw: h.raw,
      contentHash: h.contentHash,
      internalDate: h.internalDate,
      flags: h.flags,
      localFolder: h.localFolder,
      envelopeFrom: h.envelopeFrom,
      summary: h.summary,
      recipients: h.recipients
        .filter((r) => r.state === 'pending' && !accepted.has(acceptedKey(h.ref, r.accountId)))
        .map((r) => r.accountId),
    },
  }));
  const { sent, addresses } = await sendToTargets(deps, account, records);
  const context: CommitContext = { account, addresses, retryBaseMs: deps.retryBaseMs, now: Date.now() };
  const targetDown = sent.some((r) =>
    [...r.routed.values()].some((s) => s.route === 'target' && s.outcome.status === 'temporary' && s.outcome.unreachable),
  );
  return inTransaction(deps.pool, async (tx) => {
    const outcome: HeldOutcome = { ...emptyTally(), lastReason: null, targetDown };
    for (const record of sent) {
      await tx.query('SAVEPOINT held');
      try {
        await commitHeld(tx, context, record, outcome);
        await tx.query('RELEASE SAVEPOINT held');
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT held');
        if (isTransient(err)) throw err;
        await keepWaiting(tx, context, record, outcome, classifyError(err).message);
      }
    }
    return outcome;
  });
}

const backoffOf = (context: CommitContext, held: HeldMessage): number => deliveryRetryDelayMs(held.attempts + 1, context.retryBaseMs);

/** One held message's attempt, in its savepoint: released, quarantined or held a little longer. */
async function commitHeld(tx: PoolClient, context: CommitContext, record: SentRecord<HeldRecord>, outcome: HeldOutcome): Promise<void> {
  const { held: h } = record;
  const { now, addresses } = context;
  const result = await commitRecipients(tx, record);
  const refused = h.recipients.filter((r) => r.state === 'rejected');
  const outcomes = [...result.outcomes, ...refused.map((r): RecipientOutcome => ({ status: 'permanent', response: r.response }))];
  const disposition = dispositionOf(outcomes, now - h.createdAt.getTime());
  const remaining = [...refused, ...result.remaining].map((r) =>
    disposition === 'quarantined' && r.state === 'pending' ? { ...r, state: 'rejected' as const } : r,
  );
  const reason =
    disposition === 'quarantined' && result.remaining.some((r) => r.state === 'pending')
      ? `not accepted within ${HOLD_LIMIT_DAYS} days: ${reasonOf(remaining, addresses)}`
      : reasonOf(remaining, addresses);
  if (disposition !== 'delivered') outcome.lastReason = reason;
  await recordHeldAttempt(tx, h.id, {
    state: disposition === 'held' ? 'pending' : 'quarantined',
    reason,
    nextAttemptAt: nextAttemptAt(outcomes, now, backoffOf(context, h)),
    recipients: disposition === 'delivered' ? [] : remaining,
  });
  if (disposition !== 'held') await markHeldDone(tx, context.account.id, h.ref);
  outcome[disposition === 'held' ? 'held' : disposition]++;
}

/** A held message whose writes the database refused: it waits alone, but for those a target took just now. */
async function keepWaiting(
  tx: PoolClient,
  context: CommitContext,
  { held: h, routed }: SentRecord<HeldRecord>,
  outcome: HeldOutcome,
  error: string,
): Promise<void> {
  const { now } = context;
  outcome.lastReason = `could not be processed: ${error}`;
  // Those a target took just now are recorded already (deliveries): only the others wait.
  const taken = (accountId: string): boolean => {
    const s = routed.get(accountId);
    return s?.route === 'target' && s.outcome.status === 'delivered';
  };
  const expired = now - h.createdAt.getTime() >= HOLD_LIMIT_MS;
  await recordHeldAttempt(tx, h.id, {
    state: expired ? 'quarantined' : 'pending',
    reason: outcome.lastReason,
    nextAttemptAt: new Date(now + backoffOf(context, h)),
    recipients: h.recipients.filter((r) => !taken(r.accountId)).map((r) => (expired ? { ...r, state: 'rejected' as const } : r)),
  });
  outcome[expired ? 'quarantined' : 'failed']++;
}
