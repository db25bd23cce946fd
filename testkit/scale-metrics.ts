/** Reading the worker's Prometheus text and the figures the scale run prints from it. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    if (space < 0) continue;
    const name = brace >= 0 && brace < space ? line.slice(0, brace) : line.slice(0, space);
    const labels: Record<string, string> = {};
    if (brace >= 0 && brace < space) {
      const body = line.slice(brace + 1, line.lastIndexOf('}'));
      for (const part of body.split(',')) {
        const eq = part.indexOf('=');
        if (eq > 0) labels[part.slice(0, eq)] = part.slice(eq + 2, -1);
      }
    }
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

/** Cumulative bucket counts by upper bound (Infinity last), summed over the matching series. */
export function histogram(samples: readonly Sample[], name: string, match: (labels: Record<string, string>) => boolean = () => true) {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || !match(s.labels)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

/** What was observed between two scrapes: the later buckets minus the earlier ones. */
export function bucketsBetween(before: [number, number][], after: [number, number][]): [number, number][] {
  const earlier = new Map(before);
  return after.map(([le, n]) => [le, n - (earlier.get(le) ?? 0)]);
}

/**
 * A quantile from cumulative buckets, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does; a quantile beyond the last finite bound is reported as that bound
 * (`beyond`). null without observations.
 */
export function bucketQuantile(buckets: readonly [number, number][], q: number): { value: number; beyond: boolean } | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return { value: lower, beyond: true };
      const inBucket = cumulative - below;
      return { value: inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le, beyond: false };
    }
    lower = le;
    below = cumulative;
  }
  return { value: lower, beyond: true };
}

/** p-th percentile (0–100) of a list of numbers, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** What the scale run measured that says which resource ran out. */
export interface ScaleVerdictInput {
  cores: number;
  /** the measured window's length */
  windowSeconds: number;
  /** CPU seconds each part spent in the window (worker(s), Temporal, PostgreSQL, Dovecot) */
  cpuSeconds: Record<string, number>;
  withinShare: number;
  connectP99Ms: number;
  workerRssPeakMb: number;
  workflowTaskScheduleToStartP99Ms: number | null;
  activityScheduleToStartP99Ms: number | null;
  /** workflow tasks that found their workflow in the worker's cache, and those that replayed it */
  cacheHits: number;
  cacheMisses: number;
  cacheSize: number;
  pgConnectionsPeak: number;
  pgMaxConnections: number;
}

export const SCALE_GOALS = { withinShare: 0.99, connectP99Ms: 5_000, workerRssMb: 500 } as const;

/**
 * The goals missed, and for each resource that ran out the figure that shows it and what would
 * help: a part busy near a whole core, the machine's cores all busy, workflow tasks waiting far
 * longer than activities (the workflow-task path: Temporal's matching and history, the worker's
 * workflow threads), most workflow tasks replaying for want of a cache slot, activities waiting
 * for a slot, the worker's memory. Empty when every goal was met.
 */
export function scaleVerdict(m: ScaleVerdictInput): { missed: string[]; causes: string[] } {
  const missed: string[] = [];
  if (!(m.withinShare >= SCALE_GOALS.withinShare))
    missed.push(`cycles within interval + 10 % ${(100 * m.withinShare).toFixed(1)} % < 99 %`);
  if (!(m.connectP99Ms < SCALE_GOALS.connectP99Ms))
    missed.push(`Connect Now p99 ${Number.isFinite(m.connectP99Ms) ? `${(m.connectP99Ms / 1000).toFixed(1)} s` : 'not stored'} ≥ 5 s`);
  if (!(m.workerRssPeakMb < SCALE_GOALS.workerRssMb)) missed.push(`worker RSS ${m.workerRssPeakMb.toFixed(0)} MB ≥ 500 MB`);
  if (missed.length === 0) return { missed, causes: [] };
  const causes: string[] = [];
  const cores = Object.fromEntries(Object.entries(m.cpuSeconds).map(([part, s]) => [part, s / m.windowSeconds]));
  for (const [part, used] of Object.entries(cores)) {
    if (used >= 0.8)
      causes.push(`${part} CPU: ${used.toFixed(2)} cores over the window (a core is its ceiling; more ${part} processes or cores)`);
  }
  const total = Object.values(cores).reduce((a, b) => a + b, 0);
  if (total >= 0.85 * m.cores)
    causes.push(`the machine's CPU: ${total.toFixed(2)} of ${m.cores} cores busy (more cores, or fewer actions per cycle)`);
  const wft = m.workflowTaskScheduleToStartP99Ms;
  const act = m.activityScheduleToStartP99Ms;
  if (wft !== null && wft >= 1_000 && (act === null || wft >= 10 * act)) {
    causes.push(
      `the workflow-task path: workflow-task schedule-to-start p99 ${(wft / 1000).toFixed(1)} s, activity ${act === null ? 'n/a' : `${act.toFixed(0)} ms`} (Temporal's matching/history or the worker's workflow threads)`,
    );
  }
  const tasks = m.cacheHits + m.cacheMisses;
  if (tasks > 0 && m.cacheMisses / tasks >= 0.5) {
    causes.push(
      `the workflow cache: ${((100 * m.cacheMisses) / tasks).toFixed(0)} % of workflow tasks replayed their history (MAILPULL_MAX_CACHED_WORKFLOWS ${m.cacheSize}; a larger cache, or shorter histories)`,
    );
  }
  if (act !== null && act >= 1_000)
    causes.push(`activity slots: activity schedule-to-start p99 ${(act / 1000).toFixed(1)} s (MAILPULL_MAX_ACTIVITIES, more workers)`);
  if (m.pgConnectionsPeak >= 0.9 * m.pgMaxConnections) {
    causes.push(
      `PostgreSQL connections: peak ${m.pgConnectionsPeak} of max_connections ${m.pgMaxConnections} (raise it, or smaller pools)`,
    );
  }
  if (m.workerRssPeakMb >= SCALE_GOALS.workerRssMb)
    causes.push(`worker memory: RSS peak ${m.workerRssPeakMb.toFixed(0)} MB (a smaller workflow cache, more workers)`);
  if (causes.length === 0) causes.push('no single resource stands out: see CPU per cycle and the latencies');
  return { missed, causes };
}
