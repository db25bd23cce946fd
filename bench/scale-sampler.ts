import { readFile } from 'node:fs/promises';
import type { Pool } from '../db/pool';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** ms since the epoch */
  at: number;
  rssBytes: number;
  /** CPU used since the previous sample, in % of one core */
  cpuPercent: number | null;
  /** connections the worker holds to Postgres (application_name), and all connections to the server */
  pgWorker: number;
  pgAll: number;
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime, stime
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(line.replace(/[^0-9]/g, '')) * 1024;
}

/**
 * Samples a process (RSS, CPU) and the Postgres connections every `everyMs` until stopped. The
 * worker's connections are those whose application_name is `appName` (PGAPPNAME in its environment).
 */
export function startSampler(pid: number, pool: Pool, appName: string, everyMs: number) {
  const samples: ProcessSample[] = [];
  let previous: { at: number; ticks: number } | null = null;
  let stopped = false;
  const take = async (): Promise<void> => {
    const at = Date.now();
    const ticks = await cpuTicks(pid);
    const { rows } = await pool.query<{ worker: number; all: number }>(
      `SELECT count(*) FILTER (WHERE application_name = $1)::int AS worker, count(*)::int AS all
         FROM pg_stat_activity WHERE backend_type = 'client backend'`,
      [appName],
    );
    samples.push({
      at,
      rssBytes: await rssBytes(pid),
      cpuPercent: previous ? ((ticks - previous.ticks) / TICKS_PER_SECOND / ((at - previous.at) / 1000)) * 100 : null,
      pgWorker: rows[0].worker,
      pgAll: rows[0].all,
    });
    previous = { at, ticks };
  };
  const loop = (async () => {
    while (!stopped) {
      await take().catch(() => undefined);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    async stop(): Promise<ProcessSample[]> {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

export interface ProcessFigures {
  rssPeakMb: number;
  rssMeanMb: number;
  cpuPeak: number;
  cpuMean: number;
  pgWorkerPeak: number;
  pgAllPeak: number;
}

/** Peaks and means of the samples taken in [from, to). */
export function summarize(samples: readonly ProcessSample[], from: number, to: number): ProcessFigures {
  const inRange = samples.filter((s) => s.at >= from && s.at < to);
  const mb = (b: number) => b / 1024 / 1024;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const cpu = inRange.map((s) => s.cpuPercent).filter((c): c is number => c !== null);
  return {
    rssPeakMb: mb(Math.max(0, ...inRange.map((s) => s.rssBytes))),
    rssMeanMb: mb(mean(inRange.map((s) => s.rssBytes))),
    cpuPeak: Math.max(0, ...cpu),
    cpuMean: mean(cpu),
    pgWorkerPeak: Math.max(0, ...inRange.map((s) => s.pgWorker)),
    pgAllPeak: Math.max(0, ...inRange.map((s) => s.pgAll)),
  };
}
