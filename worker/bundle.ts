import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where `npm run build` leaves the prebuilt workflow bundle, so workers start without webpack. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '../workflow-bundle.js');

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  await writeFile(WORKFLOW_BUNDLE, code);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
