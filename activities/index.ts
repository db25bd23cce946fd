import { Context } from '@temporalio/activity';
import { accountStateOf } from '../core/account-state';
import type { AccountStatus, BatchSummary, DeleteSummary, DeliveryBacklog, HeldSummary, ListSummary } from '../core/account-status';
import { selectForDeletion, type DeletePolicy } from '../core/delete-policy';
import { messageKey, type BatchLimits, type ServerMessage } from '../core/download-plan';
import { classifyError, MailpullError } from '../core/errors';
import type { NetworkPolicy } from '../core/network-policy';
import { missingFoldersWarning } from '../core/folder-selection';
import { providerForHost, watchedFolderLimit } from '../core/providers';
import { log } from '../core/log';
import { sizeMismatchNote } from '../core/retrieved-size';
import { headerSectionHash } from '../core/pop3-identity';
import { addTally, emptyTally } from '../core/tally';
import { tlsWarning } from '../core/tls-decision';
import { withAccountLock } from '../db/account-lock';
import { saveAccountStatus } from '../db/account-status';
import { countFinishedCycle } from '../db/cycle-metrics';
import {
  getExternalAccountSettings,
  getStoredExternalAccount,
  loadActiveness,
  type Activeness,
  type StoredExternalAccount,
} from '../db/external-accounts';
import { backlogOf } from '../db/held-messages';
import { subscribedWebhooks } from '../db/webhooks';
import { WEBHOOK_EVENTS } from '../core/webhook-events';
import type { Pool } from '../db/pool';
import {
  loadCursors,
  loadIndex,
  markGone,
  markOversize,
  markSizeMismatch,
  markRemoved,
  markVanished,
  nextDownloads,
  noteFailure,
  pendingCounts,
  recordHeaderHashes,
  recordListing,
  saveFolderListings,
} from '../db/uid-index';
import { watchForNewMail, type WatchOutcome } from '../mail/imap-watch';
import { HEADER_KEEP_BYTES } from '../mail/pop3-client';
import type { MailSession, MailSource } from '../mail/source';
import type { TargetClients } from '../mail/targets/target-clients';
import type { Keyring } from '../secrets/keyring';
import { withAccountSession } from './account-session';
import { createCredentials } from './credentials';
import {
  finishCycle,
  startCycle,
  type CycleFinish,
  type CycleFinishInput,
  type CycleStart,
  type CycleStartInput,
  type CycleSteps,
} from './cycle';
import { arrived, deliverIsolated, type ArrivedMessage } from './deliver';
import { retryHeld } from './held-retry';
import { typedFailures } from './failure';
import { GroupCommitter } from './group-committer';
import { heartbeating } from './heartbeat';
import { createWebhookActivities, type WebhookTiming } from './webhooks';

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

/**
 * A download activity takes further batches on its session for this long: fewer logins, and the
 * workflow still sees progress (each activity's summary) this often.
 */
const DOWNLOAD_ACTIVITY_MS = 30_000;
/** A message whose download failed this often is left on the server and shown as skipped. */
export const MAX_FETCH_FAILURES = 5;

/** The message an error names (the one being fetched when it happened), to count failures per message. */
const failedRef = (err: unknown) => (err instanceof MailpullError ? err.ref : undefined);

/** The activities of one collection cycle; only ids and small summaries cross Temporal. */
export function createActivities({
  pool,
  lockPool,
  keyring,
  trace,
  sources,
  targets,
  deliveryRetryMs,
  limits,
  commitLimits,
  push,
  webhooks,
  networkPolicy,
}: ActivityDeps) {
  const delivery = { pool, keyring, targets, retryBaseMs: deliveryRetryMs };
  const credentials = createCredentials({
    pool,
    keyring,
    timeoutMs: push.timeoutMs,
    networkPolicy,
    defaultMaxMessageBytes: limits.maxMessageBytes,
    trace,
  });
  const session = <T>(accountId: string, work: Parameters<typeof withAccountSession<T>>[2]): Promise<T> =>
    withAccountSession({ pool, lockPool, keyring, sources, credentials }, accountId, work);
  // an account's own limit saved before it was checked against the global one may be larger
  const sizeLimit = (account: { maxMessageBytes: number | null }): number =>
    Math.min(account.maxMessageBytes ?? limits.maxMessageBytes, limits.maxMessageBytes);

  const backlog = async (accountId: string): Promise<DeliveryBacklog> => {
    const b = await backlogOf(pool, accountId);
    return { backlog: b.backlog, quarantined: b.quarantined, nextAttemptAt: b.nextAttemptAt?.toISOString() ?? null };
  };

  /** What the policy removes now, of the messages the index holds (delivered ones only). */
  const dueForDeletion = async (accountId: string, policy: DeletePolicy) => {
    const index = await loadIndex(pool, accountId);
    return { index, due: selectForDeletion([...index.values()], index, policy, new Date()) };
  };

  /**
   * Removes what the policy allows on an open session. A POP3 message listed under a delivered
   * UIDL but not removed is another message that took the UIDL over (its size or header section
   * differs): the delivered one is marked gone, so the next listing collects the newcomer.
   */
  const deleteDue = async (mail: MailSession, account: StoredExternalAccount): Promise<number> => {
    const { due } = await dueForDeletion(account.id, account.deletePolicy);
    if (due.length === 0) return 0;
    const { removed, replaced } = await heartbeating(
      () => ({ stage: 'deleting' }),
      async () => {
        const listed = account.protocol === 'pop3' ? await mail.present(due) : [];
        const done = await mail.remove(due);
        const gone = new Set(done.map(messageKey));
        return { removed: done, replaced: listed.filter((m) => !gone.has(messageKey(m))) };
      },
    );
    await markRemoved(pool, account.id, [...removed, ...replaced]);
    return removed.length;
  };

  const applyDeletePolicy = (accountId: string): Promise<DeleteSummary> =>
    typedFailures(async () => {
      const stored = await getExternalAccountSettings(pool, accountId);
      // touch nothing, not even a login, when nothing is due
      if (!stored || (await dueForDeletion(accountId, stored.deletePolicy)).due.length === 0) return { removed: 0 };
      return { removed: await session(accountId, deleteDue) };
    });

  const list = (accountId: string, deleteIfQuiet: boolean): Promise<{ listed: ListSummary; removed: number }> =>
    typedFailures(() =>
      session(accountId, async (mail, account) => {
        const stage = { stage: 'listing' };
        const listed: ListSummary = await heartbeating(
          () => stage,
          async () => {
            const listing = await mail.list(await loadCursors(pool, accountId));
            stage.stage = 'recording';
            const recorded = await recordListing(pool, accountId, listing.messages);
            const resynced = await saveFolderListings(pool, accountId, listing.folders);
            const pop3 = account.protocol === 'pop3';
            const folders = pop3 ? [''] : listing.folders.map((f) => f.folder);
            await markVanished(pool, accountId, folders, recorded.messages, pop3);
            const counts = await pendingCounts(pool, accountId, sizeLimit(account));
            return {
              tls: mail.tls,
              tlsWarning: tlsWarning(mail.tls, account.allowInvalidCertificates),
              onServer: listing.messages.length,
              newOnServer: recorded.inserted,
              ...counts,
              resyncedFolders: resynced,
              folderWarning: missingFoldersWarning(listing.missingFolders),
            };
          },
        );
        return { listed, removed: deleteIfQuiet && listed.pending === 0 ? await deleteDue(mail, account) : 0 };
      }),
    );

  const recordStatus = (accountId: string, status: AccountStatus): Promise<void> =>
    typedFailures(async () => {
      await saveAccountStatus(pool, accountId, accountStateOf(status), status);
      // a new lastRun: counted for /metrics and logged, once however often this is retried
      const cycle = await countFinishedCycle(pool, accountId, status);
      if (cycle) log[cycle.outcome === 'failed' ? 'warn' : 'info'](cycle, 'cycle finished');
    });

  const cycleSteps: CycleSteps = {
    async loadSchedule(accountId) {
      return { ...(await loadActiveness(pool, accountId)), backlog: (await backlogOf(pool, accountId)).backlog };
    },
    list,
    applyDeletePolicy,
    recordStatus,
    async subscribedEvents() {
      const webhooks = await subscribedWebhooks(pool, WEBHOOK_EVENTS);
      return [...new Set(webhooks.flatMap((w) => w.events))];
    },
  };

  return {
    ...createWebhookActivities({ pool, keyring, timing: webhooks, networkPolicy }),

    /** Whether the account may collect now, and how many messages it holds for a delivery target. */
    async loadSchedule(accountId: string): Promise<Activeness & { backlog: number }> {
      return typedFailures(() => cycleSteps.loadSchedule(accountId));
    },

    /**
     * Logs in, lists the server (IMAP: only what is new or pending) and records it in the index
     * once per cycle; the downloads that follow work from the index.
     */
    async listNew(accountId: string): Promise<ListSummary> {
      return (await list(accountId, false)).listed;
    },

    /**
     * Downloads and delivers undelivered messages from the index, heartbeating its progress: a
     * batch (MAILPULL_BATCH_MESSAGES/BYTES) at a time, and further batches on the same session
     * (one login) until DOWNLOAD_ACTIVITY_MS passed or none are left. A message that cannot be
     * processed fails alone; one whose download keeps failing goes to the back of the queue and,
     * after a few tries, is left on the server.
     */
    async downloadBatch(accountId: string): Promise<BatchSummary> {
      return typedFailures(() =>
        session(accountId, async (mail, account) => {
          const limit = sizeLimit(account);
          const tally = emptyTally();
          let deliveryError: string | null = null;
          // One fsync per group, not per message; the next group downloads while one commits.
          const committer = new GroupCommitter<ArrivedMessage>(async (group) => {
            // before the commit that marks them delivered: a delivered POP3 message always has its hash
            await recordHeaderHashes(
              pool,
              accountId,
              group
                .filter((m) => m.message.folder === '')
                .map((m) => ({ ref: m.message, headerHash: headerSectionHash(m.raw, HEADER_KEEP_BYTES) })),
            );
            const outcome = await deliverIsolated(delivery, account, group);
            addTally(tally, outcome);
            deliveryError = outcome.lastReason ?? deliveryError;
            Context.current().heartbeat(tally);
          }, commitLimits);
          let bytes = 0;
          const started = Date.now();
          // Handed to the committer in this activity: later batches leave them out, so the next
          // batch downloads while the last groups commit, and a message whose delivery failed is
          // tried again by a later activity, not at once.
          const handedOn: ServerMessage[] = [];
          await heartbeating(
            () => tally,
            async () => {
              try {
                for (;;) {
                  const batch = await nextDownloads(
                    pool,
                    accountId,
                    { maxMessages: limits.maxMessages, maxBytes: limits.maxBytes, maxMessageBytes: limit },
                    handedOn,
                  );
                  if (batch.length === 0) break;
                  const answered = new Set<string>();
                  for await (const fetched of mail.fetch(batch)) {
                    answered.add(messageKey(fetched.message));
                    if (fetched.raw === null) {
                      await markOversize(pool, accountId, fetched.message, fetched.oversize);
                      continue;
                    }
                    // A target that answers "later" is not sent more: the rest stays on the server.
                    if (tally.held > 0) break;
                    if (fetched.sizeMismatch) {
                      const note = sizeMismatchNote(fetched.sizeMismatch);
                      await markSizeMismatch(pool, accountId, fetched.message, fetched.raw.length, note);
                      log.warn({ accountId, uid: fetched.message.uid, ...fetched.sizeMismatch }, note);
                    }
                    bytes += fetched.raw.length;
                    handedOn.push(fetched.message);
                    await committer.add(arrived(fetched), fetched.raw.length);
                  }
                  if (tally.held > 0) break;
                  await markGone(
                    pool,
                    accountId,
                    batch.filter((m) => !answered.has(messageKey(m))),
                  );
                  if (Date.now() - started >= DOWNLOAD_ACTIVITY_MS) break;
                }
                await committer.drain();
              } catch (err) {
                const ref = failedRef(err);
                if (ref) await noteFailure(pool, accountId, ref, classifyError(err).message, MAX_FETCH_FAILURES).catch(() => undefined);
                throw err;
              } finally {
                await committer.settle();
              }
            },
          );
          return {
            ...tally,
            deliveryError,
            bytes,
            remaining: (await pendingCounts(pool, accountId, limit)).pending,
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
        withAccountLock(lockPool, accountId, async () => {
          const account = await getStoredExternalAccount(pool, keyring, accountId);
          if (!account) throw new MailpullError('gone', 'the external account no longer exists');
          return retryHeld(delivery, account, scope, commitLimits, () => backlog(accountId));
        }),
      );
    },

    /**
     * Removes from the server what the delete policy allows: delivered messages only. Logs in only
     * when the index holds a message the policy removes now.
     */
    applyDeletePolicy,

    /** Keeps the status the workflow reports in Postgres, for lists and filters over many accounts. */
    recordStatus,

    /** The first activity of every cycle, and often the only one (activities/cycle.ts). */
    async startCycle(accountId: string, input: CycleStartInput): Promise<CycleStart> {
      return typedFailures(() => startCycle(cycleSteps, accountId, input));
    },

    /** The last activity of a cycle that had work: deletes what the policy allows, records the status. */
    async finishCycle(accountId: string, input: CycleFinishInput): Promise<CycleFinish> {
      return typedFailures(() => finishCycle(cycleSteps, accountId, input));
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
        const cursors = await loadCursors(pool, accountId);
        const watching = credentials.login(account, (endpoint) =>
          watchForNewMail(endpoint, cursors, {
            timeoutMs: push.timeoutMs,
            networkPolicy,
            maxIdleMs: push.idleRestartMs,
            // IDLE needs a connection per folder; beyond the limit the schedule covers the rest
            maxFolders: watchedFolderLimit(providerForHost(account.host)),
            signal: controller.signal,
          }),
        );
        try {
          return await heartbeating(
            () => undefined,
            () => Promise.race([watching, context.cancelled]),
          );
        } finally {
          controller.abort();
          await watching.catch(() => undefined);
        }
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
