import { serve } from '@hono/node-server';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../core/config';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { resealSecrets } from '../db/secrets';
import { loadKeyring } from '../secrets/keyring';
import { createApp } from './app';
import { createWorkflowControl } from './workflow-control';

async function main(): Promise<void> {
  const config = loadConfig();
  const keyring = loadKeyring(config.secretKeys);
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  await resealSecrets(pool, keyring, { onlyPlaintext: true });
  const connection = await Connection.connect({ address: config.temporalAddress });
  const app = createApp({
    pool,
    keyring,
    workflows: createWorkflowControl(connection, config.temporalNamespace, config.taskQueue),
    limits: { maxBodyBytes: config.apiMaxBodyBytes, requestsPerMinute: config.apiRateLimit },
    networkPolicy: config.networkPolicy,
    adminUi: { temporalUiUrl: config.temporalUiUrl, temporalNamespace: config.temporalNamespace },
  });
  const server = serve({ fetch: app.fetch, hostname: config.apiHost, port: config.apiPort }, (info) => {
    console.log(`mailpull API listening on http://${config.apiHost}:${info.port}`);
  });
  const shutdown = (): void => {
    server.close(() => {
      void Promise.allSettled([connection.close(), pool.end()]).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('mailpull api failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
