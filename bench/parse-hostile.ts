/**
 * Milliseconds the per-message parse pipeline (parseHeaders, the content hash, summarize,
 * candidateAddresses, envelopeSender, receiveTime: what delivery reads from every message) takes
 * on each hostile message of testkit/hostile-corpus.ts (the pathological header and MIME
 * structure shapes at 1 MB, a 32 MiB body line). Each message runs in a child process with a time limit,
 * so a parser that freezes shows as "> limit" instead of holding the bench.
 *   node dist/bench/parse-hostile.js [limit-seconds]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { envelopeSender } from '../core/envelope';
import { parseHeaders } from '../core/headers';
import { summarize } from '../core/message-summary';
import { receiveTime } from '../core/receive-time';
import { DEFAULT_RECIPIENT_HEADERS, candidateAddresses } from '../core/recipients';
import { hostileCorpus } from '../testkit/hostile-corpus';

const ROUNDS = 3;

function pipeline(raw: Buffer): void {
  const headers = parseHeaders(raw);
  createHash('sha256').update(raw).digest('hex');
  summarize(raw);
  candidateAddresses(headers, { enabled: true, headers: DEFAULT_RECIPIENT_HEADERS });
  envelopeSender(headers);
  receiveTime(null, headers, 'receivedHeader', new Date());
}

/** Best of ROUNDS runs of the pipeline on one corpus message, in ms. */
function measure(index: number): number {
  const { raw } = hostileCorpus()[index];
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    pipeline(raw);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

function main(): void {
  const limitSeconds = Number(process.argv[2] ?? 60);
  const corpus = hostileCorpus();
  console.log(`parse pipeline per message, best of ${ROUNDS} (ms)`);
  for (const [index, { name, raw }] of corpus.entries()) {
    const child = spawnSync(process.execPath, [__filename, '--one', String(index)], { timeout: limitSeconds * 1000, encoding: 'utf8' });
    const figure = child.error || child.status !== 0 ? `> ${limitSeconds * 1000}` : child.stdout.trim();
    console.log(`${figure.padStart(10)}  ${name} (${(raw.length / 1024).toFixed(0)} KiB)`);
  }
}

if (process.argv[2] === '--one') {
  console.log(measure(Number(process.argv[3])).toFixed(1));
} else {
  main();
}
