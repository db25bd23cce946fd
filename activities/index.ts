import { Context } from '@temporalio/activity';
import { selectForDeletion } from '../core/delete-policy';
import { messageKey, planDownloads, type BatchLimits, type MessageRef } from '../core/download-plan';
import { tlsWarning, type TlsOutcome } from '../core/tls-decision';
import {
  getExternalAccountSettings,
  getStoredExternalAccount,
  loadActiveness,
  type Activeness,
  type StoredExternalAccount,
} from '../db/external-accounts';
import type { Pool } from '../db/pool';
import { withAccountLock } from '../db/account-lock';
import { backlogOf, pendingHeld } from '../db/held-messages';
import { collectedAmong, loadCursors, loadIndex, markRemoved, recordSeen, saveFolderListings } from '../db/uid-index';
import { watchForNewMail, type WatchOutcome } from '../mail/imap-watch';
import type { FetchedRaw, Listing, MailSession, MailSource } from '../mail/source';
import type { TargetClients } from '../mail/targets/target-clients';
import type { Keyring } from '../secrets/keyring';
import { withAccountSession } from './account-session';
import { createCredentials } from './credentials';
import { deliverGroup, deliverHeld } from './deliver';
import { GroupCommitter } from './group-committer';
import { typedFailures } from './failure';
import { MailpullError } from '../core/errors';

export interface ActivityDeps {
  pool: Pool;
  keyring: Keyring;
  /** where protocol traces go (MAILPULL_PROTOCOL_TRACE) */
  trace?: (line: string) => void;
  sources: Record<StoredExternalAccount['protocol'], MailSource>;
  /** pooled connections to the delivery targets, for the life of the worker */
  targets: TargetClients;
  /** first wait before a held message is tried again */
  deliveryRetryMs: number;
  limits: BatchLimits;
  /** how many messages (and bytes) one delivery transaction holds at most */
  commitLimits: { messages: number; bytes: number };
  push: { timeoutMs: number; idleRestartMs: number };
}

export interface ListSummary {
  tls: TlsOutcome;
  /** why the connection counts as insecure, if it does */
  tlsWarning: string | null;
  onServer: number;
  /** messages mailpull had never seen before */
  newlySeen: number;
  /** undelivered messages that will be downloaded */
  pending: number;
  /** undelivered messages over the size limit, left on the server */
  tooLarge: number;
  /** IMAP folders whose UIDVALIDITY changed since the last cycle */
  resyncedFolders: string[];
}

/** Messages downloaded but not yet taken by a delivery target, and those in quarantine. */
export interface DeliveryBacklog {
  pending: number;
  quarantined: number;
  /** when the earliest pending one is tried again */
  nextAttemptAt: string | null;
}

export interface BatchSummary {
  delivered: number;
  /** copies of messages delivered before a UIDVALIDITY change: not delivered again */
  recognized: number;
  /** a target answered "later" or could not be reached: held, still on the remote server */
  held: number;
  /** a target refused them for good: in quarantine */
  quarantined: number;
  /** what a target answered for the last message it did not take */
  deliveryError: string | null;
  bytes: number;
  remaining: number;
  backlog: DeliveryBacklog;
}

export interface HeldSummary {
  delivered: number;
  held: number;
  quarantined: number;
  deliveryError: string | null;
  backlog: DeliveryBacklog;
}

export interface DeleteSummary {
  removed: number;
}

const HEARTBEAT_EVERY_MS = 5_000;
/** IDLE needs a connection per folder; beyond this many folders the schedule covers the rest. */
const MAX_WATCHED_FOLDERS = 10;

/** The activities of one collection cycle; only ids and small summaries cross Temporal. */
export function createActivities({ pool, keyring, trace, sources, targets, deliveryRetryMs, limits, commitLimits, push }: ActivityDeps) {
  const delivery = { pool, keyring, targets, retryBaseMs: deliveryRetryMs };
  const credentials = createCredentials({ pool, keyring, timeoutMs: push.timeoutMs, trace });
  const session = <T>(accountId: string, work: Parameters<typeof withAccountSession<T>>[2]): Promise<T> =>
    withAccountSession({ pool, keyring, sources, credentials }, accountId, work);

  /** Lists the server (IMAP: only what is new or pending) and records what it learned. */
  const listAndRecord = async (accountId: string, mail: MailSession): Promise<Listing & { newlySeen: number; resynced: string[] }> => {
    const listing = await mail.list(await loadCursors(pool, accountId));
    const newlySeen = await recordSeen(pool, accountId, listing.messages);
    const resynced = await saveFolderListings(pool, accountId, listing.folders);
    return { ...listing, newlySeen, resynced };
  };

  const backlog = async (accountId: string): Promise<DeliveryBacklog> => {
    const b = await backlogOf(pool, accountId);
    return { pending: b.pending, quarantined: b.quarantined, nextAttemptAt: b.nextAttemptAt?.toISOString() ?? null };
  };

  return {
    /** Whether the account may collect now, and how many messages it holds for a delivery target. */
    async loadSchedule(accountId: string): Promise<Activeness & { heldPending: number }> {
      return typedFailures(async () => ({ ...(await loadActiveness(pool, accountId)), heldPending: (await backlogOf(pool, accountId)).pending }));
    },

    /** Logs in, lists the server, records messages not seen before. */
    async listNew(accountId: string): Promise<ListSummary> {
      return typedFailures(() =>
        session(accountId, async (mail, account) => {
          const listing = await listAndRecord(accountId, mail);
          const plan = planDownloads(listing.messages, await collectedAmong(pool, accountId, listing.messages), {
            ...limits,
            maxMessages: Number.POSITIVE_INFINITY,
            maxBytes: Number.POSITIVE_INFINITY,
          });
          return {
            tls: mail.tls,
            tlsWarning: tlsWarning(mail.tls, account.allowInvalidCertificates),
            onServer: listing.messages.length,
            newlySeen: listing.newlySeen,
            pending: plan.batch.length,
            tooLarge: plan.tooLarge.length,
            resyncedFolders: listing.resynced,
          };
        }),
      );
    },

    /** Downloads and delivers the next batch of undelivered messages, heartbeating its progress. */
    async downloadBatch(accountId: string): Promise<BatchSummary> {
      return typedFailures(() =>
        session(accountId, async (mail, account) => {
          const listing = await listAndRecord(accountId, mail);
          const plan = planDownloads(listing.messages, await collectedAmong(pool, accountId, listing.messages), limits);
          const context = Context.current();
          const progress = { delivered: 0, recognized: 0, held: 0, quarantined: 0, of: plan.batch.length };
          let deliveryError: string | null = null;
          // Beats on a timer too, so one slow, huge message does not look like a dead worker;
          // a stalled connection is caught by the socket read timeout instead.
          const beat = setInterval(() => context.heartbeat(progress), HEARTBEAT_EVERY_MS);
          // One fsync per group, not per message; the next group downloads while one commits.
          const committer = new GroupCommitter<FetchedRaw>(async (group) => {
            const outcome = await deliverGroup(delivery, account, group);
            progress.delivered += outcome.delivered;
            progress.recognized += outcome.recognized;
            progress.held += outcome.held;
            progress.quarantined += outcome.quarantined;
            deliveryError = outcome.lastReason ?? deliveryError;
            context.heartbeat(progress);
          }, commitLimits);
          let bytes = 0;
          try {
            for await (const fetched of mail.fetch(plan.batch)) {
              // A target that answers "later" is not sent more: the rest stays on the server.
              if (progress.held > 0) break;
              if (fetched.raw === null) continue;
              bytes += fetched.raw.length;
              await committer.add(fetched, fetched.raw.length);
            }
            await committer.drain();
          } finally {
            clearInterval(beat);
            await committer.settle();
          }
          return {
            delivered: progress.delivered,
            recognized: progress.recognized,
            held: progress.held,
            quarantined: progress.quarantined,
            deliveryError,
            bytes,
            remaining: plan.remaining,
            backlog: await backlog(accountId),
          };
        }),
      );
    },

    /**
     * Tries again the messages held for a delivery target: those due (between cycles) or all of
     * them (at the start of a cycle). Needs no remote session, only the account's lock.
     */
    async deliverHeldMessages(accountId: string, scope: 'due' | 'all'): Promise<HeldSummary> {
      return typedFailures(() =>
        withAccountLock(pool, accountId, async () => {
          const account = await getStoredExternalAccount(pool, keyring, accountId);
          if (!account) throw new MailpullError('gone', 'the external account no longer exists');
          const summary: HeldSummary = { delivered: 0, held: 0, quarantined: 0, deliveryError: null, backlog: await backlog(accountId) };
          const context = Context.current();
          const limits = { all: scope === 'all', maxMessages: commitLimits.messages, maxBytes: commitLimits.bytes };
          const seen = new Set<string>();
          // a slow target must not look like a dead worker
          const beat = setInterval(() => context.heartbeat(summary), HEARTBEAT_EVERY_MS);
          try {
            for (;;) {
              const due = (await pendingHeld(pool, accountId, limits)).filter((h) => !seen.has(h.id));
              if (due.length === 0) break;
              for (const h of due) seen.add(h.id);
              const outcome = await deliverHeld(delivery, account, due);
              summary.delivered += outcome.delivered;
              summary.held += outcome.held;
              summary.quarantined += outcome.quarantined;
              summary.deliveryError = outcome.lastReason ?? summary.deliveryError;
              // The target still says "later": the rest would get the same answer.
              if (outcome.held > 0) break;
            }
          } finally {
            clearInterval(beat);
          }
          summary.backlog = await backlog(accountId);
          return summary;
        }),
      );
    },

    /** Removes from the server what the delete policy allows: delivered messages only. */
    async applyDeletePolicy(accountId: string): Promise<DeleteSummary> {
      return typedFailures(async () => {
        const stored = await getExternalAccountSettings(pool, accountId);
        if (stored?.deletePolicy.mode === 'never') return { removed: 0 }; // touch nothing, not even a login
        const removed = await session(accountId, async (mail, account) => {
          const index = await loadIndex(pool, accountId);
          const due = selectForDeletion([...index.values()], index, account.deletePolicy, new Date());
          const { rows } = await pool.query<MessageRef & { size: string }>(
            'SELECT folder, uidvalidity, uid, size FROM uid_index WHERE external_account_id = $1 AND deleted_at IS NULL',
            [accountId],
          );
          const sizes = new Map(rows.map((r) => [messageKey(r), Number(r.size)]));
          return mail.remove(due.map((ref) => ({ ...ref, size: sizes.get(messageKey(ref)) ?? -1 })));
        });
        await markRemoved(pool, accountId, removed);
        return { removed: removed.length };
      });
    },

    /**
     * IMAP push: holds IDLE on the collected folders and completes when new mail arrives. The
     * workflow cancels it when the interval ends or Connect Now is pressed; a dropped connection
     * fails the attempt, and the retry policy reconnects with backoff.
     */
    async waitForNewMail(accountId: string): Promise<WatchOutcome | 'off'> {
      return typedFailures(async () => {
        const account = await getStoredExternalAccount(pool, keyring, accountId);
        if (!account || account.protocol !== 'imap' || !account.push) return 'off';
        const activeness = await loadActiveness(pool, accountId);
        if (activeness.state !== 'active') return 'off';
        const context = Context.current();
        const controller = new AbortController();
        const beat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
        const cursors = await loadCursors(pool, accountId);
        const watching = credentials.login(account, (endpoint) =>
          watchForNewMail(endpoint, cursors, {
            timeoutMs: push.timeoutMs,
            maxIdleMs: push.idleRestartMs,
            maxFolders: MAX_WATCHED_FOLDERS,
            signal: controller.signal,
          }),
        );
        try {
          return await Promise.race([watching, context.cancelled]);
        } finally {
          clearInterval(beat);
          controller.abort();
          await watching.catch(() => undefined);
        }
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
