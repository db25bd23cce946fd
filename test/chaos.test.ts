import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chaosFailures, FAULT_KINDS, formatReport, runChaos } from '../testkit/chaos';

// The short form of `npm run chaos`: 10 accounts, 400 messages, a minute of faults of every kind.
test('chaos: worker kills, Postgres, Temporal and Dovecot restarts, Postgres and Temporal stopped, transfers cut: nothing lost, duplicated or removed early', async () => {
  const report = await runChaos({
    accounts: 10,
    messages: 400,
    faultSeconds: 60,
    gapMs: [2_000, 5_000],
    stopMs: [3_000, 10_000],
    settleSeconds: 150,
    kinds: FAULT_KINDS,
    logDir: path.join(tmpdir(), `mailpull-chaos-test-${Date.now()}`),
    log: (line) => console.log(`[chaos] ${line}`),
  });
  console.log(formatReport(report));
  const injected = new Set(report.faults.filter((f) => f.injected).map((f) => f.kind));
  assert.ok(injected.size >= 4, `faults of several kinds were injected: ${[...injected].join(', ')}`);
  assert.deepEqual(chaosFailures(report), []);
  assert.equal(report.stored, report.messages);
});
