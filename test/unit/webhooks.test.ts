import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { webhookUrlProblem } from '../../api/webhook-schemas';
import { signatureOf } from '../../activities/webhooks';
import { loadConfig } from '../../core/config';
import { webhookAnswerOf } from '../../core/webhook-answer';
import { webhookEventsOf, type EventInputs, type StatusChange } from '../../core/webhook-events';

const run = (more: Partial<NonNullable<EventInputs['lastRun']>> = {}): NonNullable<EventInputs['lastRun']> => ({
  outcome: 'ok',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:02.000Z',
  delivered: 0,
  recognized: 0,
  held: 0,
  quarantined: 0,
  failed: 0,
  downloadedBytes: 0,
  removed: 0,
  ...more,
});

const status = (more: Partial<EventInputs> = {}): EventInputs => ({
  phase: 'waiting',
  lastRun: run(),
  lastError: null,
  disabledReason: null,
  delivery: { backlog: 0, quarantined: 0, lastError: null },
  ...more,
});

const change = (more: Partial<StatusChange> = {}): StatusChange => ({
  previous: 'ok',
  current: 'ok',
  status: status(),
  cycleRan: true,
  ...more,
});

const names = (c: StatusChange): string[] => webhookEventsOf(c).map((e) => e.event);

describe('webhook events from a change of status', () => {
  test('a cycle that delivered sends mail.delivered with its counts; one that delivered nothing sends nothing', () => {
    assert.deepEqual(webhookEventsOf(change()), []);
    const [delivered, ...rest] = webhookEventsOf(
      change({ status: status({ lastRun: run({ delivered: 3, downloadedBytes: 4096, removed: 1 }) }) }),
    );
    assert.deepEqual(rest, []);
    assert.deepEqual(delivered, {
      event: 'mail.delivered',
      data: {
        delivered: 3,
        recognized: 0,
        held: 0,
        quarantined: 0,
        failed: 0,
        downloadedBytes: 4096,
        removed: 1,
        cycleStartedAt: '2026-01-01T00:00:00.000Z',
        cycleFinishedAt: '2026-01-01T00:00:02.000Z',
      },
    });
  });

  test('without a cycle (a disabled account) the last run is not announced again', () => {
    const last = status({ phase: 'disabled', lastRun: run({ delivered: 3, quarantined: 1 }) });
    assert.deepEqual(names(change({ previous: 'disabled', current: 'disabled', status: last, cycleRan: false })), []);
  });

  test('a cycle that quarantined sends message.quarantined with the count and the quarantine size', () => {
    const events = webhookEventsOf(
      change({
        status: status({ lastRun: run({ delivered: 1, quarantined: 2 }), delivery: { backlog: 0, quarantined: 5, lastError: null } }),
      }),
    );
    assert.deepEqual(
      events.map((e) => e.event),
      ['mail.delivered', 'message.quarantined'],
    );
    assert.deepEqual(events[1].data, { quarantined: 2, inQuarantine: 5 });
  });

  test('account.failing once when the state becomes failing, not while it stays failing', () => {
    const failed = status({
      lastRun: run({ outcome: 'failed' }),
      lastError: { kind: 'auth', message: '-ERR [AUTH] Authentication failed.' },
    });
    const first = webhookEventsOf(change({ previous: null, current: 'failing', status: failed }));
    assert.deepEqual(first, [
      {
        event: 'account.failing',
        data: { previousState: null, errorKind: 'auth', error: '-ERR [AUTH] Authentication failed.', backlog: 0 },
      },
    ]);
    assert.deepEqual(names(change({ previous: 'ok', current: 'failing', status: failed })), ['account.failing']);
    assert.deepEqual(names(change({ previous: 'failing', current: 'failing', status: failed })), []);
    assert.deepEqual(names(change({ previous: 'failing', current: 'ok' })), [], 'recovering is not an event');
  });

  test('a target that keeps refusing makes the account failing: the delivery error is the reason', () => {
    const refusing = status({ delivery: { backlog: 4, quarantined: 0, lastError: { message: '451 4.3.0 try later' } } });
    const [event] = webhookEventsOf(change({ current: 'failing', status: refusing }));
    assert.deepEqual(event.data, { previousState: 'ok', errorKind: 'delivery', error: '451 4.3.0 try later', backlog: 4 });
  });

  test('account.reauthorization_needed once, with the reason; long reasons are cut', () => {
    const reason = `invalid_grant: ${'x'.repeat(2000)}`;
    const needs = status({ phase: 'reauthorization_needed', disabledReason: reason });
    const [event, ...rest] = webhookEventsOf(
      change({ previous: 'failing', current: 'reauthorization_needed', status: needs, cycleRan: false }),
    );
    assert.deepEqual(rest, []);
    assert.equal(event.event, 'account.reauthorization_needed');
    assert.equal(event.data.previousState, 'failing');
    assert.equal(String(event.data.reason).length, 500);
    assert.ok(String(event.data.reason).startsWith('invalid_grant: xxx'));
    assert.deepEqual(
      names(change({ previous: 'reauthorization_needed', current: 'reauthorization_needed', status: needs, cycleRan: false })),
      [],
    );
    assert.deepEqual(names(change({ previous: 'ok', current: 'disabled', cycleRan: false })), [], 'disabling is the admin’s own doing');
  });

  test('summaries from older histories (fewer counts) produce no event', () => {
    const old = { ...status(), lastRun: { outcome: 'ok' } } as unknown as EventInputs;
    assert.deepEqual(names(change({ status: old })), []);
  });
});

describe('webhook answers, URLs, signatures and settings', () => {
  test('2xx delivers; 408, 429 and 5xx are retried; other answers refuse for good', () => {
    for (const status of [200, 201, 202, 204, 299]) assert.equal(webhookAnswerOf(status), 'delivered', String(status));
    for (const status of [408, 429, 500, 502, 503, 504, 599]) assert.equal(webhookAnswerOf(status), 'retry', String(status));
    for (const status of [0, 100, 199, 301, 302, 400, 401, 403, 404, 410, 413, 600])
      assert.equal(webhookAnswerOf(status), 'refused', String(status));
  });

  test('only absolute http(s) URLs with a host and no credentials', () => {
    assert.equal(webhookUrlProblem('https://hooks.example.com/mailpull?team=ops'), null);
    assert.equal(webhookUrlProblem('http://127.0.0.1:8080/'), null);
    assert.match(webhookUrlProblem('hooks.example.com/x') ?? '', /absolute/);
    assert.match(webhookUrlProblem('ftp://hooks.example.com/') ?? '', /http/);
    assert.match(webhookUrlProblem('file:///etc/passwd') ?? '', /http/);
    assert.match(webhookUrlProblem('javascript:alert(1)') ?? '', /http/);
    assert.match(webhookUrlProblem('https://user:pass@hooks.example.com/') ?? '', /user name or password/);
    assert.match(webhookUrlProblem('https://user@hooks.example.com/') ?? '', /user name or password/);
    assert.match(webhookUrlProblem(`https://hooks.example.com/a${' '.repeat(1000)}b`) ?? '', /at most 2048 characters once escaped/);
  });

  test('the signature is the hex HMAC-SHA256 of the body (RFC 4231 test case 2)', () => {
    assert.equal(
      signatureOf('Jefe', 'what do ya want for nothing?'),
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  test('the retry interval and the timeout are bounded settings', () => {
    const base = { DATABASE_URL: 'postgres://x', MAILPULL_SECRET_KEY: 'k' };
    const defaults = loadConfig(base);
    assert.equal(defaults.webhookRetryMs, 10_000);
    assert.equal(defaults.webhookTimeoutMs, 10_000);
    assert.equal(loadConfig({ ...base, MAILPULL_WEBHOOK_RETRY_SECONDS: '1' }).webhookRetryMs, 1000);
    assert.throws(
      () => loadConfig({ ...base, MAILPULL_WEBHOOK_RETRY_SECONDS: '601' }),
      /MAILPULL_WEBHOOK_RETRY_SECONDS must be at most 600/,
    );
    assert.throws(() => loadConfig({ ...base, MAILPULL_WEBHOOK_TIMEOUT_SECONDS: '0' }), /MAILPULL_WEBHOOK_TIMEOUT_SECONDS/);
  });
});
