import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { createAppendCredentials } from '../activities/append-credentials';
import { createActivities } from '../activities';
import { loadConfig, loadLogSettings } from '../core/config';
import { log, nameProcess, temporalLogger } from '../core/log';
import { connectTemporal } from '../core/temporal-connection';
import { idleTaskQueue } from '../core/task-queues';
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
import { keepReconciling } from './reconciler';
import { ensureSearchAttributes } from './search-attributes';

async function main(): Promise<void> {
  const config = loadConfig();
  // before any connection: the SDK logs through our logger, and serves its own metrics (task
  // slots, schedule-to-start latency, polls) at /metrics if asked. Its native core writes its rare
  // warnings itself, as JSON lines too: forwarding them to us would buffer every SDK log call and
  // poll the core every few ms, which measurably changed socket timing (test/two-workers.test.ts).
  Runtime.install({
    logger: temporalLogger(log.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, console: { format: loadLogSettings().format === 'json' ? 'json' : 'compact' } },
      ...(config.workerMetricsAddress && { metrics: { prometheus: { bindAddress: config.workerMetricsAddress } } }),
    },
  });
  const keyring = loadKeyring(config.secretKeys);
  const pool = createPool(config.databaseUrl, { max: config.dbPool });
  // one lock connection per activity slot: taking a lock never waits (see db/account-lock.ts)
  const lockPool = createPool(config.databaseUrl, { max: config.maxActivities });
  await migrate(pool);
  await resealSecrets(pool, keyring, { onlyLegacy: true });
  const connection = await connectTemporal(config, (options) => NativeConnection.connect(options));
  await ensureSearchAttributes(connection.operatorService, config.temporalNamespace);
  const targets = new TargetClients(
    config.socketTimeoutMs,
    config.networkPolicy,
    createAppendCredentials({ pool, keyring, timeoutMs: config.socketTimeoutMs, networkPolicy: config.networkPolicy }),
  );
  const activities = createActivities({
    pool,
    lockPool,
    keyring,
    trace: config.protocolTrace ? (line) => log.info(`trace ${line}`) : undefined,
    sources: {
      pop3: createPop3Source({ timeoutMs: config.socketTimeoutMs, networkPolicy: config.networkPolicy }),
      imap: createImapSource({ timeoutMs: config.socketTimeoutMs, networkPolicy: config.networkPolicy }),
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
    networkPolicy: config.networkPolicy,
  });
  // On SIGTERM running activities get a few seconds, then are cancelled: a stop never hangs
  // on a stalled session (the cancelled activities are retried elsewhere).
  const shutdown = { shutdownGraceTime: '5 seconds', shutdownForceTime: '8 seconds' } as const;
  const worker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    maxConcurrentActivityTaskExecutions: config.maxActivities,
    // The workflow cache is bounded (about 0.1–0.4 MB per workflow, measured); the SDK's default
    // grows with the heap limit (some 2,300 on a 4 GB heap). The SDK's autoscaling pollers were
    // measured worse here (new workflows' first tasks waited), so its fixed default pollers stay.
    maxCachedWorkflows: config.maxCachedWorkflows,
    ...shutdown,
    ...(existsSync(WORKFLOW_BUNDLE)
      ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
      : { workflowsPath: require.resolve('../workflows') }),
    // waitForNewMail too: watches scheduled here before the IDLE queue existed still finish
    activities,
  });
  // The IMAP IDLE watches: a queue and slots of their own, so held connections never starve
  // collection. Past the budget a watch waits in the queue while its account polls on schedule.
  const idleWorker = await Worker.create({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: idleTaskQueue(config.taskQueue),
    maxConcurrentActivityTaskExecutions: config.maxIdleWatches,
    ...shutdown,
    activities: { waitForNewMail: (accountId: string) => activities.waitForNewMail(accountId) },
  });
  const workers = [worker, idleWorker];
  const stopMonitor = monitorEventLoop(config.loopReportMs, (line) => log.info(line));
  const stopReconciler = keepReconciling({
    pool,
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    intervalMs: config.reconcileMs,
    log,
  });
  const stopHealth = config.healthFile
    ? keepHealthFile(config.healthFile, () => workers.every((w) => w.getState() === 'RUNNING'))
    : () => undefined;
  log.info(
    `mailpull worker polling task queue "${config.taskQueue}" (IMAP IDLE: "${idleTaskQueue(config.taskQueue)}", ` +
      `${config.maxIdleWatches} watches) on ${config.temporalAddress}`,
  );
  // both return after SIGINT/SIGTERM, once running activities finished or timed out
  const running = workers.map((w) => w.run());
  try {
    await Promise.all(running);
  } catch (err) {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(running);
    throw err;
  } finally {
    stopReconciler();
    stopMonitor();
    stopHealth();
    targets.closeAll();
    await connection.close();
    await pool.end();
    await lockPool.end();
  }
}

nameProcess('worker');
main().catch((err: unknown) => {
  log.fatal(`mailpull worker failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
