import type { DeliveryBacklog, HeldSummary } from '../core/account-status';
import {
  deliveryRetryDelayMs,
  dispositionOf,
  HOLD_LIMIT_DAYS,
  HOLD_LIMIT_MS,
  nextAttemptAt,
  type RecipientOutcome,
} from '../core/delivery-outcome';
import { classifyError } from '../core/errors';
import { addTally, emptyTally, type Tally } from '../core/tally';
import { acceptedKey, acceptedRecipients } from '../db/deliveries';
import type { StoredExternalAccount } from '../db/external-accounts';
import { pendingHeld, recordHeldAttempt, type HeldMessage } from '../db/held-messages';
import { inTransaction } from '../db/pool';
import { markHeldDone } from '../db/uid-index';
import { commitOutcomes, isTransient, reasonOf, sendToTargets, type DeliveryDeps, type Item } from './deliver';
import { heartbeating } from './heartbeat';

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
  const pending = held.map((h) =>
    h.recipients.filter((r) => r.state === 'pending' && !accepted.has(acceptedKey(h.ref, r.accountId))).map((r) => r.accountId),
  );
  const items = held.map((h, i): Item => ({
    ref: h.ref,
    raw: h.raw,
    contentHash: h.contentHash,
    internalDate: h.internalDate,
    flags: h.flags,
    localFolder: h.localFolder,
    envelopeFrom: h.envelopeFrom,
    summary: h.summary,
    recipients: pending[i],
  }));
  const { sent, addresses } = await sendToTargets(deps, account, items);
  const now = Date.now();
  const targetDown = sent.some((m) =>
    [...m.values()].some((s) => s.route === 'target' && s.outcome.status === 'temporary' && s.outcome.unreachable),
  );
  return inTransaction(deps.pool, async (tx) => {
    const outcome: HeldOutcome = { ...emptyTally(), lastReason: null, targetDown };
    for (const [i, h] of held.entries()) {
      const backoffMs = deliveryRetryDelayMs(h.attempts + 1, deps.retryBaseMs);
      await tx.query('SAVEPOINT held');
      try {
        const result = await commitOutcomes(tx, items[i], sent[i]);
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
          nextAttemptAt: nextAttemptAt(outcomes, now, backoffMs),
          recipients: disposition === 'delivered' ? [] : remaining,
        });
        if (disposition !== 'held') await markHeldDone(tx, account.id, h.ref);
        outcome[disposition === 'held' ? 'held' : disposition]++;
        await tx.query('RELEASE SAVEPOINT held');
      } catch (err) {
        await tx.query('ROLLBACK TO SAVEPOINT held');
        if (isTransient(err)) throw err;
        outcome.lastReason = `could not be processed: ${classifyError(err).message}`;
        // Those a target took just now are recorded already (deliveries): only the others wait.
        const taken = (accountId: string): boolean => {
          const s = sent[i].get(accountId);
          return s?.route === 'target' && s.outcome.status === 'delivered';
        };
        const expired = now - h.createdAt.getTime() >= HOLD_LIMIT_MS;
        await recordHeldAttempt(tx, h.id, {
          state: expired ? 'quarantined' : 'pending',
          reason: outcome.lastReason,
          nextAttemptAt: new Date(now + backoffMs),
          recipients: h.recipients.filter((r) => !taken(r.accountId)).map((r) => (expired ? { ...r, state: 'rejected' as const } : r)),
        });
        outcome[expired ? 'quarantined' : 'failed']++;
      }
    }
    return outcome;
  });
}
