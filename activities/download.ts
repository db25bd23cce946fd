import { Context } from '@temporalio/activity';
import type { BatchSummary } from '../core/account-status';
import { messageKey, type ServerMessage } from '../core/download-plan';
import { classifyError, MailpullError } from '../core/errors';
import { log } from '../core/log';
import { headerSectionHash } from '../core/pop3-identity';
import { sizeMismatchNote } from '../core/retrieved-size';
import { addTally, emptyTally, type Tally } from '../core/tally';
import type { StoredExternalAccount } from '../db/external-accounts';
import { markGone, markOversize, markSizeMismatch, nextDownloads, noteFailure, downloadCounts, recordHeaderHashes } from '../db/uid-index';
import { HEADER_KEEP_BYTES } from '../mail/pop3-client';
import type { MailSession } from '../mail/source';
import type { ActivityContext } from './context';
import { arrived, type ArrivedMessage } from './delivery/facts';
import { deliverIsolated } from './delivery/isolate';
import { GroupCommitter } from './group-committer';
import { heartbeating } from './heartbeat';

/**
 * A download activity takes further batches on its session for this long: fewer logins, and the
 * workflow still sees progress (each activity's summary) this often.
 */
const DOWNLOAD_ACTIVITY_MS = 30_000;
/** A message whose download failed this often is left on the server and shown as skipped. */
export const MAX_FETCH_FAILURES = 5;

/** The message an error names (the one being fetched when it happened), to count failures per message. */
const failedRef = (err: unknown) => (err instanceof MailpullError ? err.ref : undefined);

/** What one download activity has done so far. */
interface Progress {
  /** also the heartbeat's details */
  tally: Tally;
  deliveryError: string | null;
  bytes: number;
  /**
   * Handed to the committer in this activity: later batches leave them out, so the next batch
   * downloads while the last groups commit, and a message whose delivery failed is tried again
   * by a later activity, not at once.
   */
  handedOn: ServerMessage[];
}

/**
 * Downloads undelivered messages from the index and delivers them, heartbeating its progress: a
 * batch (MAILPULL_BATCH_MESSAGES/BYTES) at a time, and further batches on the same session (one
 * login) until DOWNLOAD_ACTIVITY_MS passed or none are left. Delivery commits in groups
 * (MAILPULL_COMMIT_MESSAGES/BYTES) while the next group downloads. A message that cannot be
 * processed fails alone; one whose download keeps failing goes to the back of the queue and,
 * after a few tries, is left on the server.
 */
export async function downloadAndDeliver(
  context: ActivityContext,
  mail: MailSession,
  account: StoredExternalAccount,
): Promise<BatchSummary> {
  const { pool } = context;
  const limit = context.sizeLimit(account);
  const progress: Progress = { tally: emptyTally(), deliveryError: null, bytes: 0, handedOn: [] };
  // One fsync per group, not per message; the next group downloads while one commits.
  const committer = new GroupCommitter<ArrivedMessage>(
    (group) => deliverDownloaded(context, account, group, progress),
    context.commitLimits,
  );
  await heartbeating(
    () => progress.tally,
    async () => {
      try {
        await downloadForAWhile(context, mail, account, limit, committer, progress);
        await committer.drain();
      } catch (err) {
        const ref = failedRef(err);
        if (ref) await noteFailure(pool, account.id, ref, classifyError(err).message, MAX_FETCH_FAILURES).catch(() => undefined);
        throw err;
      } finally {
        await committer.settle();
      }
    },
  );
  return {
    ...progress.tally,
    deliveryError: progress.deliveryError,
    bytes: progress.bytes,
    remaining: (await downloadCounts(pool, account.id, limit)).toDownload,
    backlog: await context.backlog(account.id),
  };
}

/** A committer's group: through the delivery pipeline (activities/delivery/), its outcome added to the progress. */
async function deliverDownloaded(
  { pool, delivery }: ActivityContext,
  account: StoredExternalAccount,
  group: ArrivedMessage[],
  progress: Progress,
): Promise<void> {
  // before the commit that marks them delivered: a delivered POP3 message always has its hash
  await recordHeaderHashes(
    pool,
    account.id,
    group.filter((m) => m.message.folder === '').map((m) => ({ ref: m.message, headerHash: headerSectionHash(m.raw, HEADER_KEEP_BYTES) })),
  );
  const outcome = await deliverIsolated(delivery, account, group);
  addTally(progress.tally, outcome);
  progress.deliveryError = outcome.lastReason ?? progress.deliveryError;
  Context.current().heartbeat(progress.tally);
}

/** Batch after batch from the index, until none is left, a message is held, or the activity's time is up. */
async function downloadForAWhile(
  context: ActivityContext,
  mail: MailSession,
  account: StoredExternalAccount,
  limit: number,
  committer: GroupCommitter<ArrivedMessage>,
  progress: Progress,
): Promise<void> {
  const { limits } = context;
  const started = Date.now();
  for (;;) {
    const batch = await nextDownloads(
      context.pool,
      account.id,
      { maxMessages: limits.maxMessages, maxBytes: limits.maxBytes, maxMessageBytes: limit },
      progress.handedOn,
    );
    if (batch.length === 0) return;
    if (!(await downloadOneBatch(context, mail, account, batch, committer, progress))) return;
    if (Date.now() - started >= DOWNLOAD_ACTIVITY_MS) return;
  }
}

/**
 * Downloads one batch and hands each message on to the committer; the messages the server no
 * longer served are marked gone. False when a target answered "later": a target that does is not
 * sent more, and the rest stays on the server.
 */
async function downloadOneBatch(
  { pool }: ActivityContext,
  mail: MailSession,
  account: StoredExternalAccount,
  batch: ServerMessage[],
  committer: GroupCommitter<ArrivedMessage>,
  progress: Progress,
): Promise<boolean> {
  const answered = new Set<string>();
  for await (const fetched of mail.fetch(batch)) {
    answered.add(messageKey(fetched.message));
    if (fetched.raw === null) {
      await markOversize(pool, account.id, fetched.message, fetched.oversize);
      continue;
    }
    if (progress.tally.held > 0) return false;
    if (fetched.sizeMismatch) {
      const note = sizeMismatchNote(fetched.sizeMismatch);
      await markSizeMismatch(pool, account.id, fetched.message, fetched.raw.length, note);
      log.warn({ accountId: account.id, uid: fetched.message.uid, ...fetched.sizeMismatch }, note);
    }
    progress.bytes += fetched.raw.length;
    progress.handedOn.push(fetched.message);
    await committer.add(arrived(fetched), fetched.raw.length);
  }
  if (progress.tally.held > 0) return false;
  await markGone(
    pool,
    account.id,
    batch.filter((m) => !answered.has(messageKey(m))),
  );
  return true;
}
