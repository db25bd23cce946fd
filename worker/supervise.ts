import path from 'node:path';
import { log, nameProcess } from '../core/log';
import { Supervisor, type ChildSpec } from './supervisor';

const USAGE = 'usage: node dist/worker/supervise.js [--grace-ms N] NAME=SCRIPT.js...';

/**
 * `npm start`'s process supervisor: runs each NAME=SCRIPT.js as `node SCRIPT.js`, restarts a child
 * that exits (1 s doubling to 30 s, reset after a minute up), and on SIGINT/SIGTERM stops them all
 * (SIGTERM, SIGKILL after --grace-ms, default 7000) and exits.
 */
function parseArgs(argv: readonly string[]): { graceMs: number; specs: ChildSpec[] } {
  let graceMs = 7_000;
  const specs: ChildSpec[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--grace-ms') {
      graceMs = Number(argv[++i]);
      if (!Number.isInteger(graceMs) || graceMs < 0) throw new Error(`--grace-ms needs a whole number of milliseconds\n${USAGE}`);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0 || eq === arg.length - 1) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    specs.push({ name: arg.slice(0, eq), command: process.execPath, args: [path.resolve(arg.slice(eq + 1))] });
  }
  if (specs.length === 0) throw new Error(USAGE);
  return { graceMs, specs };
}

function main(): void {
  const { graceMs, specs } = parseArgs(process.argv.slice(2));
  const supervisor = new Supervisor(specs, { graceMs, log: (line) => log.info(line) });
  const shutdown = (signal: NodeJS.Signals): void => {
    log.info(`${signal}: stopping ${specs.map((s) => s.name).join(', ')}`);
    void supervisor.stop().then(() => {
      log.info('all children stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  supervisor.start();
}

nameProcess('supervisor');
try {
  main();
} catch (err) {
  log.fatal(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
