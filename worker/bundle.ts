import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log, nameProcess, temporalLogger } from '../core/log';

/** Where `npm run build` leaves the prebuilt workflow bundle, so workers start without webpack. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

async function main(): Promise<void> {
  // webpack's report (every bundled module) comes at info: only warnings and errors are shown
  const logger = temporalLogger(log.child({ component: 'bundler' }, { level: 'warn' }));
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger });
  await writeFile(WORKFLOW_BUNDLE, code);
}

if (require.main === module) {
  nameProcess('build');
  main().catch((err: unknown) => {
    log.fatal(err instanceof Error ? err : { err }, 'the workflow bundle could not be built');
    process.exit(1);
  });
}
