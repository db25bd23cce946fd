import { tmpdir } from 'node:os';
import path from 'node:path';
import { chaosFailures, FAULT_KINDS, formatReport, runChaos, type FaultKind } from '../testkit/chaos';

/** `npm run chaos` (bench/chaos.sh): the chaos run of testkit/chaos.ts, sized by CHAOS_* variables. */
async function main(): Promise<void> {
  const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
  const kinds = (process.env.CHAOS_FAULTS ?? FAULT_KINDS.join(',')).split(',') as FaultKind[];
  const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k));
  if (unknown.length) throw new Error(`unknown CHAOS_FAULTS ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  const report = await runChaos({
    accounts: env('CHAOS_ACCOUNTS', 20),
    messages: env('CHAOS_MESSAGES', 2000),
    faultSeconds: env('CHAOS_SECONDS', 180),
    gapMs: [env('CHAOS_GAP_MIN_MS', 2_000), env('CHAOS_GAP_MAX_MS', 8_000)],
    stopMs: [env('CHAOS_STOP_MIN_MS', 5_000), env('CHAOS_STOP_MAX_MS', 60_000)],
    settleSeconds: env('CHAOS_SETTLE_SECONDS', 300),
    kinds,
    logDir: process.env.CHAOS_LOG_DIR ?? path.join(tmpdir(), `mailpull-chaos-${Date.now()}`),
    log: (line) => console.log(`[chaos] ${line}`),
  });
  console.log(formatReport(report));
  const failures = chaosFailures(report);
  console.log(
    failures.length
      ? `FAILED: ${failures.join('; ')}`
      : 'PASSED: nothing lost, duplicated or removed early; the worker exited only when killed',
  );
  process.exitCode = failures.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(2);
  });
}
