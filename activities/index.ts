import { Context } from '@temporalio/activity';
import { selectForDeletion } from '../core/delete-policy';
import { planDownloads, type BatchLimits } from '../core/download-plan';
import type { TlsOutcome } from '../core/tls-decision';
import { getStoredExternalAccount, loadActiveness, type Activeness, type StoredExternalAccount } from '../db/external-accounts';
import type { Pool } from '../db/pool';
import { loadIndex, markRemoved, recordSeen } from '../db/uid-index';
import type { MailSource } from '../mail/source';
import { withAccountSession } from './account-session';
import { deliverToStore, type Downloaded } from './deliver';
import { GroupCommitter } from './group-committer';
import { typedFailures } from './failure';

export interface ActivityDeps {
  pool: Pool;
  sources: Record<StoredExternalAccount['protocol'], MailSource>;
  limits: BatchLimits;
  /** how many messages (and bytes) one delivery transaction holds at most */
  commitLimits: { messages: number; bytes: number };
}

export interface ListSummary {
  tls: TlsOutcome;
  onServer: number;
  /** messages mailpull had never seen before */
  newlySeen: number;
  /** undelivered messages that will be downloaded */
  pending: number;
  /** undelivered messages over the size limit, left on the server */
  tooLarge: number;
}

export interface BatchSummary {
  delivered: number;
  bytes: number;
  remaining: number;
}

export interface DeleteSummary {
  removed: number;
}

const HEARTBEAT_EVERY_MS = 5_000;

const deliveredUids = (index: Awaited<ReturnType<typeof loadIndex>>): Set<string> =>
  new Set([...index.values()].filter((e) => e.deliveredAt !== null).map((e) => e.uid));

/** The activities of one collection cycle; only ids and small summaries cross Temporal. */
export function createActivities({ pool, sources, limits, commitLimits }: ActivityDeps) {
  const session = <T>(accountId: string, work: Parameters<typeof withAccountSession<T>>[3]): Promise<T> =>
    withAccountSession(pool, sources, accountId, work);

  return {
    async loadSchedule(accountId: string): Promise<Activeness> {
      return typedFailures(() => loadActiveness(pool, accountId));
    },

    /** Logs in, lists the server, records messages not seen before. */
    async listNew(accountId: string): Promise<ListSummary> {
      return typedFailures(() =>
        session(accountId, async (mail) => {
          const onServer = await mail.list();
          const newlySeen = await recordSeen(pool, accountId, onServer);
          const plan = planDownloads(onServer, deliveredUids(await loadIndex(pool, accountId)), {
            ...limits,
            maxMessages: Number.POSITIVE_INFINITY,
            maxBytes: Number.POSITIVE_INFINITY,
          });
          return {
            tls: mail.tls,
            onServer: onServer.length,
            newlySeen,
            pending: plan.batch.length,
            tooLarge: plan.tooLarge.length,
          };
        }),
      );
    },

    /** Downloads and delivers the next batch of undelivered messages, heartbeating per message. */
    async downloadBatch(accountId: string): Promise<BatchSummary> {
      return typedFailures(() =>
        session(accountId, async (mail, account) => {
          const onServer = await mail.list();
          await recordSeen(pool, accountId, onServer);
          const plan = planDownloads(onServer, deliveredUids(await loadIndex(pool, accountId)), limits);
          const context = Context.current();
          const progress = { delivered: 0, of: plan.batch.length };
          // Beats on a timer too, so one slow, huge message does not look like a dead worker;
          // a stalled connection is caught by the socket read timeout instead.
          const beat = setInterval(() => context.heartbeat(progress), HEARTBEAT_EVERY_MS);
          // One fsync per group, not per message; the next group downloads while one commits.
          const committer = new GroupCommitter<Downloaded>(async (group) => {
            await deliverToStore(pool, account, group);
            progress.delivered += group.length;
            context.heartbeat(progress);
          }, commitLimits);
          let bytes = 0;
          try {
            for (const message of plan.batch) {
              const raw = await mail.fetch(message.uid);
              bytes += raw.length;
              await committer.add({ message, raw }, raw.length);
            }
            await committer.drain();
          } finally {
            clearInterval(beat);
            await committer.settle();
          }
          return { delivered: plan.batch.length, bytes, remaining: plan.remaining };
        }),
      );
    },

    /** Removes from the server what the delete policy allows: delivered messages only. */
    async applyDeletePolicy(accountId: string): Promise<DeleteSummary> {
      return typedFailures(async () => {
        const stored = await getStoredExternalAccount(pool, accountId);
        if (stored?.deletePolicy.mode === 'never') return { removed: 0 }; // touch nothing, not even a login
        const removed = await session(accountId, async (mail, account) => {
          const onServer = await mail.list();
          const doomed = selectForDeletion(
            onServer.map((m) => m.uid),
            await loadIndex(pool, accountId),
            account.deletePolicy,
            new Date(),
          );
          await mail.markDeleted(doomed);
          return doomed;
        });
        await markRemoved(pool, accountId, removed);
        return { removed: removed.length };
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
