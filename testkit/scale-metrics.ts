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
