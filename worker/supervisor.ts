import { spawn, type ChildProcess } from 'node:child_process';
import { DEFAULT_RESTART_BACKOFF, restartDelayMs, type RestartBackoff } from '../core/restart-backoff';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
}

export interface SupervisorOptions {
  /** after SIGTERM, how long a child may take to finish before SIGKILL */
  graceMs: number;
  backoff?: RestartBackoff;
  log: (line: string) => void;
}

interface Supervised {
  spec: ChildSpec;
  process: ChildProcess | null;
  startedAt: number;
  lastDelayMs: number | null;
  restartTimer: NodeJS.Timeout | null;
}

/**
 * Keeps child processes running: a child that exits is started again after a backoff, and stop()
 * ends them all (SIGTERM, then SIGKILL after the grace period). Each child runs in its own process
 * group, so a Ctrl-C on the terminal reaches only the supervisor, which then decides the order.
 */
export class Supervisor {
  private readonly children: Supervised[];
  private stopping: Promise<void> | null = null;

  constructor(
    specs: readonly ChildSpec[],
    private readonly options: SupervisorOptions,
  ) {
    this.children = specs.map((spec) => ({ spec, process: null, startedAt: 0, lastDelayMs: null, restartTimer: null }));
  }

  start(): void {
    for (const child of this.children) this.launch(child);
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private launch(child: Supervised): void {
    child.restartTimer = null;
    if (this.stopping) return;
    const proc = spawn(child.spec.command, child.spec.args, { stdio: 'inherit', detached: true });
    child.process = proc;
    child.startedAt = Date.now();
    proc.once('error', (err) => {
      this.options.log(`${child.spec.name} could not be started: ${err.message}`);
      if (proc.pid === undefined) this.exited(child, proc, null, null);
    });
    proc.once('exit', (code, signal) => this.exited(child, proc, code, signal));
    if (proc.pid !== undefined) this.options.log(`started ${child.spec.name} (pid ${proc.pid})`);
  }

  private exited(child: Supervised, proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.process !== proc) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    const uptimeMs = Date.now() - child.startedAt;
    if (this.stopping) {
      this.options.log(`${child.spec.name} (pid ${proc.pid ?? '-'}) stopped: ${how}`);
      return;
    }
    const delayMs = restartDelayMs(child.lastDelayMs, uptimeMs, this.options.backoff ?? DEFAULT_RESTART_BACKOFF);
    child.lastDelayMs = delayMs;
    this.options.log(
      `${child.spec.name} (pid ${proc.pid ?? '-'}) ${how} after ${(uptimeMs / 1000).toFixed(1)} s; restarting in ${(delayMs / 1000).toFixed(1)} s`,
    );
    child.restartTimer = setTimeout(() => this.launch(child), delayMs);
  }

  private running(proc: ChildProcess): boolean {
    return proc.exitCode === null && proc.signalCode === null;
  }

  private signal(proc: ChildProcess, signal: NodeJS.Signals): void {
    if (proc.pid === undefined || !this.running(proc)) return;
    try {
      process.kill(-proc.pid, signal); // the child's whole process group
    } catch {
      proc.kill(signal);
    }
  }

  private async stopAll(): Promise<void> {
    for (const child of this.children) {
      if (child.restartTimer) clearTimeout(child.restartTimer);
      child.restartTimer = null;
    }
    const live = this.children.map((c) => c.process).filter((p): p is ChildProcess => p !== null && this.running(p));
    const exits = live.map((p) => new Promise<void>((resolve) => (this.running(p) ? p.once('exit', () => resolve()) : resolve())));
    for (const p of live) this.signal(p, 'SIGTERM');
    const grace = setTimeout(() => {
      for (const p of live) {
        if (this.running(p)) this.options.log(`pid ${p.pid ?? '-'} still running after ${this.options.graceMs} ms: SIGKILL`);
        this.signal(p, 'SIGKILL');
      }
    }, this.options.graceMs);
    await Promise.all(exits);
    clearTimeout(grace);
  }
}
