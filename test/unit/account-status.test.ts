import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTally, emptyTally, handledIn } from '../../core/tally';
import {
  adoptRecorded,
  initialStatus,
  noteBatch,
  noteCycleFailed,
  noteHeldRetry,
  noteListing,
  noteRunRequested,
  noteWatchEnded,
  noteWatchFailed,
  startRun,
} from '../../core/account-status-reducer';
import { backlogIn, toDownloadIn, withActiveness } from '../../core/history-names';
import { batch, heldSummary, listed } from '../support/summaries';

const AT = '2026-01-01T00:00:00.000Z';

describe('tally', () => {
  test('adds only the counts the target keeps, and treats a missing count as none', () => {
    const counts = { delivered: 1, quarantined: 0 };
    addTally(counts, { delivered: 2, held: 5, quarantined: 1 });
    assert.deepEqual(counts, { delivered: 3, quarantined: 1 });
    assert.equal(handledIn(addTally(emptyTally(), { delivered: 1, recognized: 1, held: 1, quarantined: 1, failed: 1 })), 5);
  });
});

describe('account status bookkeeping', () => {
  test('a batch counts into the run and the lifetime counts, and moves the progress', () => {
    const status = initialStatus('a');
    const run = startRun(AT);
    noteListing(status, run, listed(10), AT);
    const left = noteBatch(status, run, batch({ delivered: 3, recognized: 1, failed: 1, bytes: 700, remaining: 5 }), 10, AT);
    assert.equal(left, 5);
    assert.deepEqual([run.delivered, run.recognized, run.failed, run.downloadedBytes], [3, 1, 1, 700]);
    assert.deepEqual([status.counts.delivered, status.counts.recognized], [3, 1]);
    assert.deepEqual(status.progress, { done: 5, total: 10 });
  });

  test('a held message or a batch that changed nothing ends the downloads of the cycle', () => {
    const status = initialStatus('a');
    const run = startRun(AT);
    noteListing(status, run, listed(10), AT);
    assert.equal(noteBatch(status, run, batch({ held: 1, remaining: 9, deliveryError: '451' }), 10, AT), 0);
    assert.equal(status.delivery.lastError?.message, '451');
    assert.equal(noteBatch(status, run, batch({ remaining: 9 }), 9, AT), 0);
  });

  test('held messages retried at the start of a cycle count as delivered by it, not as held again', () => {
    const status = initialStatus('a');
    const run = startRun(AT);
    noteHeldRetry(status, run, heldSummary({ delivered: 2, held: 1, backlog: { backlog: 1, quarantined: 0, nextAttemptAt: AT } }), AT);
    assert.deepEqual([run.delivered, run.held, status.counts.delivered, status.delivery.backlog], [2, 0, 2, 1]);
  });

  test('authentication failures in a row double the wait; a disabled account skips the run', () => {
    const status = initialStatus('a');
    for (let i = 0; i < 3; i++) noteCycleFailed(status, startRun(AT), { kind: 'auth', message: 'no' }, 60_000, AT);
    assert.deepEqual(status.authBackoff, { failures: 3, delaySeconds: 240 });
    const run = startRun(AT);
    noteCycleFailed(status, run, { kind: 'inactive', message: 'disabled' }, 60_000, AT);
    assert.equal(run.outcome, 'skipped');
    assert.equal(status.counts.failedCycles, 3);
  });

  test('reads the backlog under the names older histories used', () => {
    assert.equal(backlogIn({ backlog: 2 }), 2);
    assert.equal(backlogIn({ pending: 3 }), 3);
    assert.equal(backlogIn({ heldPending: 4 }), 4);
  });

  test('reads the messages to download and the activeness under the names older histories used', () => {
    assert.equal(toDownloadIn({ ...listed(0), toDownload: undefined, pending: 4 }), 4);
    assert.equal(toDownloadIn(listed(5)), 5);
    const recorded = { state: 'gone' } as unknown as { activeness: 'gone' | 'active' };
    assert.equal(withActiveness(recorded).activeness, 'gone');
    assert.equal(withActiveness({ activeness: 'active' }).activeness, 'active');
  });

  test('a status carried over by continue-as-new keeps its counts and gains fields added since', () => {
    const carried = { ...initialStatus('a'), counts: { cycles: 7 } } as unknown as Parameters<typeof initialStatus>[1];
    const status = initialStatus('a', carried);
    assert.equal(status.counts.cycles, 7);
    assert.equal(status.counts.delivered, 0);
  });

  test('a status an activity recorded is taken over; a Connect Now that came meanwhile keeps its rerun and its end of the backoff', () => {
    const recorded = { ...initialStatus('a'), phase: 'waiting' as const, authBackoff: { failures: 2, delaySeconds: 120 } };
    const quiet = { ...initialStatus('a'), phase: 'listing' as const };
    adoptRecorded(quiet, recorded, false);
    assert.deepEqual(quiet, recorded);
    const pressed = { ...initialStatus('a'), phase: 'listing' as const };
    noteRunRequested(pressed);
    adoptRecorded(pressed, recorded, true);
    assert.equal(pressed.phase, 'waiting');
    assert.equal(pressed.rerunQueued, true);
    assert.equal(pressed.authBackoff, null);
  });

  test('an IDLE watch: new mail is noted, a server without IDLE or push turned off ends it, a failure says why', () => {
    const status = { ...initialStatus('a'), push: 'listening' as const };
    noteWatchEnded(status, 'new-mail', AT);
    assert.deepEqual([status.push, status.lastPushAt], ['listening', AT]);
    noteWatchEnded(status, 'unsupported', AT);
    assert.equal(status.push, 'unsupported');
    noteWatchEnded(status, 'off', AT);
    assert.equal(status.push, 'off');
    noteWatchFailed(status, { kind: 'protocol', message: 'BAD IDLE' }, AT);
    assert.equal(status.push, 'failed');
    assert.deepEqual(status.pushError, { kind: 'protocol', message: 'BAD IDLE', at: AT });
  });
});
