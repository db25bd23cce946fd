import { readFile, writeFile } from 'node:fs/promises';

/** One configuration's figures, as bench/scale.ts writes them to SCALE_RESULT_FILE. */
export interface ScaleResult {
  config: string;
  at: string;
  rows: [string, string][];
  environment: string;
}

/** The configurations' figures side by side: one row per figure, one column per configuration. */
export function sideBySide(results: readonly ScaleResult[]): string {
  const figures: string[] = [];
  for (const r of results) for (const [figure] of r.rows) if (!figures.includes(figure)) figures.push(figure);
  const cell = (r: ScaleResult, figure: string): string => r.rows.find(([f]) => f === figure)?.[1] ?? '-';
  return [
    `# mailpull scale run, ${results.map((r) => `${r.config} ${r.at}`).join(', ')}`,
    '',
    `| figure | ${results.map((r) => r.config).join(' | ')} |`,
    `|---|${results.map(() => '---|').join('')}`,
    ...figures.map((f) => `| ${f} | ${results.map((r) => cell(r, f)).join(' | ')} |`),
    '',
    ...results.map((r) => `Worker environment (${r.config}): ${r.environment}`),
    '',
  ].join('\n');
}

/** node dist/bench/scale-table.js OUT.md RESULT.json...: prints the side-by-side table and writes it to OUT.md. */
async function main(out: string, files: string[]): Promise<void> {
  const results = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as ScaleResult));
  const table = sideBySide(results);
  console.log(`\n${table}`);
  await writeFile(out, table);
  console.log(`[scale] written to ${out}`);
}

if (require.main === module) {
  const [out, ...files] = process.argv.slice(2);
  if (!out || files.length === 0) throw new Error('usage: scale-table OUT.md RESULT.json...');
  main(out, files).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
