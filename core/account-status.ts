import { ERROR_KINDS } from './errors';
import type { Tally } from './tally';
import type { TlsOutcome } from './tls-decision';

/*
 * The account status the workflow keeps (its `status` query, the API's view, what db/ records),
 * its enumerations (the API's schema is built from them), and the summaries the activities report
 * into it. What changes it is core/account-status-reducer.ts.
 */

/** What the account's workflow is doing. */
export const PHASES = [
  'starting',
  'waiting',
  'disabled',
  'reauthorization_needed',
  'listing',
  'downloading',
  'deleting',
  'stopped',
] as const;
export type Phase = (typeof PHASES)[number];

/** The phases of an account that does not collect: set by the cycle's first look at its schedule. */
export const isInactivePhase = (phase: Phase): boolean => phase === 'disabled' || phase === 'reauthorization_needed';

/** skipped: the account was disabled meanwhile; deferred: the provider asked to wait (see providerWait) */
export const RUN_OUTCOMES = ['ok', 'failed', 'skipped', 'deferred'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];

/** A failure's kind: one of core/errors.ts, or unknown for what came without one. */
export const FAILURE_KINDS = [...ERROR_KINDS, 'unknown'] as const;

/** One cycle: what the listing found, and (as a Tally) what became of the messages it handled. */
export interface RunSummary extends Tally {
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  onServer: number;
  /** messages on the server mailpull had never seen before */
  newOnServer: number;
  downloadedBytes: number;
  removed: number;
  /** undelivered messages over the size limit (the account's, else the global one), left on the server */
  tooLarge: number;
  /** undelivered messages whose download failed again and again: given up, left on the server */
  skipped: number;
  /** IMAP folders whose UIDVALIDITY changed (recreated or migrated mailbox) */
  resyncedFolders: string[];
}

/** Why a step failed: the error's kind (core/errors.ts) and message. */
export interface Failure {
  kind: (typeof FAILURE_KINDS)[number];
  message: string;
}

/** Delivery to the account's targets: what waits for them and why. */
export interface DeliveryStatus {
  /** downloaded, not yet taken by a target; these stay on the remote server meanwhile */
  backlog: number;
  quarantined: number;
  /** when the backlog is tried again (also between cycles) */
  nextAttemptAt: string | null;
  /** what a target last answered for a message it did not take; cleared when the backlog empties */
  lastError: { message: string; at: string } | null;
}

/**
 * What IMAP push is doing: off, holding IDLE, the server has no IDLE, IDLE failed for good (see
 * pushError), or paused after a failed cycle until the next scheduled one.
 */
export const PUSH_PHASES = ['off', 'listening', 'unsupported', 'failed', 'paused'] as const;
export type PushPhase = (typeof PUSH_PHASES)[number];

export interface AccountStatus {
  externalAccountId: string;
  phase: Phase;
  /** why the account is not collecting, when phase is "disabled" or "reauthorization_needed" */
  disabledReason: string | null;
  /** authentication failures in a row, and the wait they earned (the interval, doubling, at most a day) */
  authBackoff: { failures: number; delaySeconds: number } | null;
  /**
   * the provider asked mailpull to wait (a daily download limit, a throttling answer), in words
   * naming until when; cleared by the next cycle that completes
   */
  providerWait: { message: string; at: string } | null;
  /** messages delivered in the running cycle, of those it found to download */
  progress: { done: number; total: number } | null;
  /** how the last connection was protected */
  tls: TlsOutcome | null;
  /** set when the last connection was insecure: plaintext or unchecked certificate */
  tlsWarning: string | null;
  /** set when IMAP folders the account collects no longer exist on the server (the others are collected) */
  folderWarning: string | null;
  push: PushPhase;
  pushError: (Failure & { at: string }) | null;
  /** when IDLE last reported new mail */
  lastPushAt: string | null;
  /** the last UIDVALIDITY change seen */
  lastResync: { folders: string[]; at: string } | null;
  lastRun: RunSummary | null;
  delivery: DeliveryStatus;
  lastError: (Failure & { at: string }) | null;
  nextRunAt: string | null;
  /** a Connect Now (or change) arrived during a cycle: one more cycle follows at once */
  rerunQueued: boolean;
  /** since the account's workflow started */
  counts: Pick<Tally, 'delivered' | 'recognized' | 'quarantined'> & { cycles: number; failedCycles: number; removed: number };
}

/* What the activities report to the workflow. */

export interface ListSummary {
  tls: TlsOutcome;
  /** why the connection counts as insecure, if it does */
  tlsWarning: string | null;
  onServer: number;
  /** messages on the server mailpull had never seen before */
  newOnServer: number;
  /** undelivered messages that will be downloaded (`pending` in histories recorded before the name changed: see toDownloadIn) */
  toDownload: number;
  /** undelivered messages over the size limit, left on the server */
  tooLarge: number;
  /** undelivered messages given up after repeated failed downloads, left on the server */
  skipped: number;
  /** IMAP folders whose UIDVALIDITY changed since the last cycle */
  resyncedFolders: string[];
  /** set when folders the account collects are missing on the server */
  folderWarning: string | null;
}

/** Messages downloaded but not yet taken by a delivery target, and those in quarantine. */
export interface DeliveryBacklog {
  backlog: number;
  quarantined: number;
  /** when the earliest pending one is tried again */
  nextAttemptAt: string | null;
}

export interface BatchSummary extends Tally {
  /** what a target answered, or why processing failed, for the last message not delivered */
  deliveryError: string | null;
  bytes: number;
  /** messages still to download after this batch */
  remaining: number;
  backlog: DeliveryBacklog;
}

export interface HeldSummary extends Tally {
  deliveryError: string | null;
  /** a target could not be reached at all (absent from summaries of older histories) */
  targetDown?: boolean;
  backlog: DeliveryBacklog;
}

export interface DeleteSummary {
  removed: number;
}
