/** Prometheus' text exposition format (version 0.0.4), the few parts a scrape endpoint needs. */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  /** appended to the family's name: _bucket, _sum and _count for a histogram */
  suffix?: string;
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  samples: Sample[];
}

const escapeHelp = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
const escapeLabel = (text: string): string => text.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

export function exposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      lines.push(`${family.name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A histogram's samples from per-bucket counts (not cumulative; the last is +Inf): cumulative
 * _bucket lines with `le`, then _sum and _count.
 */
export function histogramSamples(
  bounds: readonly number[],
  counts: readonly number[],
  sum: number,
  labels: Record<string, string> = {},
): Sample[] {
  const samples: Sample[] = [];
  let cumulative = 0;
  [...bounds, Infinity].forEach((bound, i) => {
    cumulative += counts[i] ?? 0;
    samples.push({ suffix: '_bucket', labels: { ...labels, le: formatValue(bound) }, value: cumulative });
  });
  samples.push({ suffix: '_sum', labels, value: sum }, { suffix: '_count', labels, value: cumulative });
  return samples;
}
