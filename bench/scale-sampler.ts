import { readdir, readFile } from 'node:fs/promises';
import type { Pool } from '../db/pool';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ProcessSample {
  /** ms since the epoch */
  at: number;
  /** the largest of the workers' RSS */
  rssBytes: number;
  /** CPU all workers used since the previous sample, in % of one core */
  cpuPercent: number | null;
  /** connections the workers hold to Postgres (application_name), Temporal's (its databases), and all client connections */
  pgWorker: number;
  pgTemporal: number;
  pgAll: number;
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it reaped */
  ticks: number;
  ownTicks: number;
}

async function statOf(pid: number): Promise<Stat | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const own = Number(fields[11]) + Number(fields[12]);
  return { ppid: Number(fields[1]), ownTicks: own, ticks: own + Number(fields[13]) + Number(fields[14]) };
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:')) ?? 'VmRSS: 0 kB';
  return Number(line.replace(/[^0-9]/g, '')) * 1024;
}

/**
 * CPU seconds a process and its descendants used so far: of every living process in the tree its
 * own time and that of the children it reaped, so short-lived children (Dovecot's logins,
 * PostgreSQL's backends) count too. A child that exited between two readings moves into its
 * parent's reaped time, so the difference of two readings is what the tree spent between them.
 */
export async function treeCpuSeconds(root: number): Promise<number> {
  const stats = new Map<number, Stat>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await statOf(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let ticks = 0;
  const queue = stats.has(root) ? [root] : [];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    ticks += stats.get(pid)?.ticks ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds of each named process tree, read at once. */
export async function cpuSecondsOf(roots: Record<string, number[]>): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const [name, pids] of Object.entries(roots)) {
    let total = 0;
    for (const pid of pids) total += await treeCpuSeconds(pid);
    result[name] = total;
  }
  return result;
}

/**
 * Samples the workers (RSS, CPU) and the Postgres connections every `everyMs` until stopped. The
 * workers' connections are those whose application_name is `appName` (PGAPPNAME in their
 * environment), Temporal's those to its databases (temporal, temporal_visibility).
 */
export function startSampler(pids: readonly number[], pool: Pool, appName: string, everyMs: number) {
  const samples: ProcessSample[] = [];
  let previous: { at: number; ticks: number } | null = null;
  let stopped = false;
  const take = async (): Promise<void> => {
    const at = Date.now();
    let ticks = 0;
    let rss = 0;
    for (const pid of pids) {
      ticks += (await statOf(pid))?.ownTicks ?? 0;
      rss = Math.max(rss, await rssBytes(pid));
    }
    const { rows } = await pool.query<{ worker: number; temporal: number; all: number }>(
      `SELECT count(*) FILTER (WHERE application_name = $1)::int AS worker,
              count(*) FILTER (WHERE datname LIKE 'temporal%')::int AS temporal, count(*)::int AS all
         FROM pg_stat_activity WHERE backend_type = 'client backend'`,
      [appName],
    );
    samples.push({
      at,
      rssBytes: rss,
      cpuPercent: previous ? ((ticks - previous.ticks) / TICKS_PER_SECOND / ((at - previous.at) / 1000)) * 100 : null,
      pgWorker: rows[0].worker,
      pgTemporal: rows[0].temporal,
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
  pgTemporalPeak: number;
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
    pgTemporalPeak: Math.max(0, ...inRange.map((s) => s.pgTemporal)),
    pgAllPeak: Math.max(0, ...inRange.map((s) => s.pgAll)),
  };
}
