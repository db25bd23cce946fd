import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { createActivities } from '../activities';
import { loadConfig } from '../core/config';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { resealSecrets } from '../db/secrets';
import { loadKeyring } from '../secrets/keyring';
import { createImapSource } from '../mail/imap-source';
import { createPop3Source } from '../mail/pop3-source';
import { TargetClients } from '../mail/targets/target-clients';
import { WORKFLOW_BUNDLE } from './bundle';
import { keepHealthFile } from './health-file';
import { monitorEventLoop } from './loop-monitor';
import { ensureSearchAttributes } from './search-attributes';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.workerMetricsAddress) {
    // before any connection: the SDK's own metrics (task slots, schedule-to-start latency, polls) at /metrics
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: config.workerMetricsAddress } } } });
  }
  const keyring = loadKeyring(config.secretKeys);
  const pool = createPool(config.databaseUrl, { max: config.dbPool });
  // one lock connection per activity slot: taking a lock never waits (see db/account-lock.ts)
  const lockPool = createPool(config.databaseUrl, { max: config.maxActivities });
  await migrate(pool);
  await resealSecrets(pool, keyring, { onlyPlaintext: true });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  await ensureSearchAttributes(connection.operatorService, config.temporalNamespace);
  const targets = new TargetClients(config.socketTimeoutMs);
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    maxConcurrentActivityTaskExecutions: config.maxActivities,
    // On SIGTERM running activities get a few seconds, then are cancelled: a stop never hangs
    // on a stalled session (the cancelled activities are retried elsewhere).
    shutdownGraceTime: '5 seconds',
    shutdownForceTime: '8 seconds',
    ...(existsSync(WORKFLOW_BUNDLE)
      ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
      : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({
      pool,
      lockPool,
      keyring,
      trace: config.protocolTrace ? (line) => console.log(`trace ${line}`) : undefined,
      sources: {
        pop3: createPop3Source({ timeoutMs: config.socketTimeoutMs }),
        imap: createImapSource({ timeoutMs: config.socketTimeoutMs }),
      },
      targets,
      deliveryRetryMs: config.deliveryRetryMs,
      limits: {
        maxMessages: config.batchMessages,
        maxBytes: config.batchBytes,
        maxMessageBytes: config.maxMessageBytes,
      },
      commitLimits: { messages: config.commitMessages, bytes: config.commitBytes },
      push: { timeoutMs: config.socketTimeoutMs, idleRestartMs: config.idleRestartMs },
      webhooks: { retryMs: config.webhookRetryMs, timeoutMs: config.webhookTimeoutMs },
    }),
  });
  const stopMonitor = monitorEventLoop(config.loopReportMs, (line) => console.log(line));
  const stopHealth = config.healthFile ? keepHealthFile(config.healthFile, () => worker.getState() === 'RUNNING') : () => undefined;
  console.log(`mailpull worker polling task queue "${config.taskQueue}" on ${config.temporalAddress}`);
  try {
    await worker.run(); // returns after SIGINT/SIGTERM, once running activities finished or timed out
  } finally {
    stopMonitor();
    stopHealth();
    targets.closeAll();
    await connection.close();
    await pool.end();
    await lockPool.end();
  }
}

main().catch((err: unknown) => {
  console.error('mailpull worker failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
