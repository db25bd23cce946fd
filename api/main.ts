import { serve } from '@hono/node-server';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../core/config';
import { log, nameProcess } from '../core/log';
import { connectTemporal } from '../core/temporal-connection';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { resealSecrets } from '../db/secrets';
import { loadKeyring } from '../secrets/keyring';
import { createApp } from './app';
import { oauthApps } from './oauth-service';
import { createWorkflowControl } from './workflow-control';

async function main(): Promise<void> {
  const config = loadConfig();
  const keyring = loadKeyring(config.secretKeys);
  const pool = createPool(config.databaseUrl);
  await migrate(pool);
  await resealSecrets(pool, keyring, { onlyLegacy: true });
  await oauthApps({ pool, keyring, networkPolicy: config.networkPolicy }).applyEnvironment(config.oauthApps);
  const connection = await connectTemporal(config, (options) => Connection.connect(options));
  const app = createApp(
    {
      pool,
      keyring,
      workflows: createWorkflowControl(connection, config.temporalNamespace, config.taskQueue),
      limits: {
        maxBodyBytes: config.apiMaxBodyBytes,
        requestsPerMinute: config.apiRateLimit,
        authFailuresPerMinute: config.apiAuthFailureLimit,
        maxMessageBytes: config.maxMessageBytes,
      },
      networkPolicy: config.networkPolicy,
      publicUrl: config.publicUrl,
      adminUi: { temporalUiUrl: config.temporalUiUrl, temporalNamespace: config.temporalNamespace },
    },
    (line) => log.error(line),
    { metricsPublic: config.metricsPublic },
  );
  const server = serve({ fetch: app.fetch, hostname: config.apiHost, port: config.apiPort }, (info) => {
    log.info(`mailpull API listening on http://${config.apiHost}:${info.port}`);
  });
  const shutdown = (): void => {
    server.close(() => {
      void Promise.allSettled([connection.close(), pool.end()]).then(() => process.exit(0));
    });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

nameProcess('api');
main().catch((err: unknown) => {
  log.fatal(`mailpull api failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
