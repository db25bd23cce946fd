import { z } from 'zod';
import { FAILURE_KINDS, PHASES, PUSH_PHASES, RUN_OUTCOMES } from '../../core/account-status';
import { TLS_OUTCOMES } from '../../core/tls-decision';
import { answerUuid, count, named, timestamp } from './answers';

// The live status of an external account's workflow (GET /api/external-accounts/:id/status).

export const failure = z.object({
  kind: z.enum(FAILURE_KINDS),
  message: z.string(),
  at: timestamp,
});

export const runSummary = z.object({
  startedAt: timestamp,
  finishedAt: timestamp,
  outcome: z.enum(RUN_OUTCOMES),
  onServer: count,
  newOnServer: count,
  downloadedBytes: count,
  removed: count,
  tooLarge: count,
  skipped: count,
  resyncedFolders: z.array(z.string()),
  delivered: count,
  recognized: count,
  held: count,
  quarantined: count,
  failed: count,
});

export const accountStatus = named(
  'AccountStatus',
  z.object({
    externalAccountId: answerUuid,
    phase: z.enum(PHASES),
    disabledReason: z.string().nullable(),
    authBackoff: z.object({ failures: count, delaySeconds: count }).nullable(),
    providerWait: z
      .object({ message: z.string(), at: timestamp })
      .nullable()
      .meta({ description: 'the provider asked mailpull to wait (a daily download limit, a throttling answer): until when, and why' }),
    progress: z.object({ done: count, total: count }).nullable(),
    tls: z.enum(TLS_OUTCOMES).nullable(),
    tlsWarning: z.string().nullable(),
    folderWarning: z.string().nullable(),
    push: z.enum(PUSH_PHASES),
    pushError: failure.nullable(),
    lastPushAt: timestamp.nullable(),
    lastResync: z.object({ folders: z.array(z.string()), at: timestamp }).nullable(),
    lastRun: runSummary.nullable(),
    delivery: z.object({
      backlog: count,
      quarantined: count,
      nextAttemptAt: timestamp.nullable(),
      lastError: z.object({ message: z.string(), at: timestamp }).nullable(),
    }),
    lastError: failure.nullable(),
    nextRunAt: timestamp.nullable(),
    rerunQueued: z.boolean(),
    counts: z.object({ cycles: count, failedCycles: count, delivered: count, recognized: count, removed: count, quarantined: count }),
    retrying: z
      .object({ activity: z.string(), attempt: z.number().int().min(1), lastError: z.object({ kind: z.string(), message: z.string() }) })
      .nullable()
      .meta({ description: 'the step of the running cycle being retried, and why' }),
  }),
);
