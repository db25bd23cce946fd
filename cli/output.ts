/** What a command prints: `text` for people, `json` with --json. */
export interface Output {
  json: unknown;
  text: string;
  /** printed as usual, but the command exits 1: part of the work failed */
  failed?: boolean;
}

export type Column<T> = [header: string, cell: (row: T) => string];

/** Rows as aligned columns under a header, or "(none)". */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => oneLine(cell(row))))];
  const widths = columns.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

/** A record as "key  value" lines; nested values as compact JSON. */
export function fields(record: Record<string, unknown>): string {
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${oneLine(display(record[k]))}`).join('\n');
}

export function display(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ');

export const yesNo = (b: unknown): string => (b ? 'yes' : 'no');
