import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { before, describe, test } from 'node:test';
import type { Schema } from './support/openapi-requests';
import { useTestSystem } from '../testkit/system';

const MISSING = '00000000-0000-4000-8000-000000000000';
/** The API's body limit in the tests and in production (MAILPULL_API_MAX_BODY_BYTES's default). */
const BODY_LIMIT = 1024 * 1024;
/** Node's HTTP parser answers 431 to a request head over 16 KiB: what a path or query can carry to the API. */
const URL_BUDGET = 12 * 1024;
const BOUND_MS = 100;
/**
 * A request over the bound is sent again, up to this many times in all, and the fastest counts:
 * its work is the same each time, the CPU other processes take from a loaded machine is not. A
 * quadratic check is over the bound every time.
 */
const ATTEMPTS = 5;

/** A text of `prefix`, `unit` repeated, `suffix`: the shapes that make backtracking patterns and scans work hardest. */
type Shape = { name: string; prefix: string; unit: string; suffix: string };
const SHAPES: Shape[] = [
  { name: 'one letter', prefix: '', unit: 'a', suffix: '' },
  { name: 'dots between two @', prefix: 'a@', unit: '.', suffix: '@' },
  { name: 'labels without an end', prefix: '', unit: 'a.', suffix: '!' },
  { name: 'hyphens', prefix: 'a', unit: '-', suffix: '!' },
  { name: 'hex and colons', prefix: '', unit: '0:', suffix: 'g' },
  { name: 'digits', prefix: '1', unit: '0', suffix: 'x' },
  { name: 'spaces', prefix: '', unit: ' ', suffix: '' },
  { name: 'a URL', prefix: 'https://', unit: 'a', suffix: '/' },
  { name: 'PEM markers', prefix: '', unit: '-----BEGIN CERTIFICATE-----', suffix: '' },
  { name: 'two-byte letters', prefix: '', unit: 'é', suffix: '' },
  { name: 'line breaks', prefix: 'a', unit: '\r\n', suffix: '' },
];

/** The longest text of the shape whose encoding (`size`) fits `budget`. */
function fill(shape: Shape, budget: number, size: (text: string) => number): string {
  const count = Math.floor((budget - size(shape.prefix) - size(shape.suffix)) / size(shape.unit));
  return shape.prefix + shape.unit.repeat(count) + shape.suffix;
}
const jsonSize = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;
const urlSize = (text: string): number => encodeURIComponent(text).length;

/** A string field of a request body, and how to put a value there (with the constants that pick its branch). */
interface Field {
  name: string;
  place: (value: string) => unknown;
}

function stringFields(doc: { components: { schemas: Record<string, Schema> } }, schema: Schema): Field[] {
  const resolve = (s: Schema): Schema =>
    typeof s.$ref === 'string' ? resolve(doc.components.schemas[s.$ref.split('/').pop() as string]) : s;
  const s = resolve(schema);
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (branches) return branches.flatMap((b) => stringFields(doc, b));
  if (s.type === 'string') return [{ name: '', place: (v) => v }];
  if (s.type === 'array') return stringFields(doc, s.items as Schema).map((f) => ({ name: `[]${f.name}`, place: (v) => [f.place(v)] }));
  if (s.type !== 'object') return [];
  const properties = Object.entries((s.properties ?? {}) as Record<string, Schema>);
  const constants = Object.fromEntries(properties.filter(([, p]) => 'const' in resolve(p)).map(([k, p]) => [k, resolve(p).const]));
  return properties.flatMap(([key, property]) =>
    stringFields(doc, property).map((f) => ({
      name: f.name.startsWith('[') || f.name === '' ? `${key}${f.name}` : `${key}.${f.name}`,
      place: (v: string) => ({ ...constants, [key]: f.place(v) }),
    })),
  );
}

interface Timed {
  status: number;
  ms: number;
}

describe('the worst input of a megabyte in each string field of every route', () => {
  const sys = useTestSystem({ worker: false, apiLimits: { maxBodyBytes: BODY_LIMIT, requestsPerMinute: 1_000_000 } });
  let doc: {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: any }>>;
    components: { schemas: Record<string, Schema> };
  };

  /** One request, timed from its first byte sent to the last byte of the answer read. */
  async function timed(method: string, url: string, body?: Buffer): Promise<Timed> {
    const headers: Record<string, string> = { authorization: `Bearer ${sys.adminToken}` };
    if (body) headers['content-type'] = 'application/json';
    const started = performance.now();
    const res = await fetch(sys.baseUrl + url, { method, headers, body });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  }

  before(async () => {
    doc = (await sys.api('GET', '/api/openapi.json', undefined, null)).body;
  });

  test('every answer comes within 100 ms, a 4xx', async () => {
    const fillIds = (template: string): string =>
      template.replace(/\{(\w+)\}/g, (_, name: string) =>
        template.startsWith('/api/quarantine') || name === 'messageId' ? '999999999' : MISSING,
      );
    const slow: string[] = [];
    const wrong: string[] = [];
    let requests = 0;
    let slowest = 0;
    let resent = 0;
    const send = async (what: string, method: string, url: string, body?: Buffer): Promise<Timed> => {
      // a connection the API drops has no status: the request is named, not only "fetch failed"
      let answer = await timed(method, url, body).catch((err: Error) => assert.fail(`${what}: ${err.message} (${String(err.cause)})`));
      for (let attempt = 1; attempt < ATTEMPTS && answer.ms >= BOUND_MS; attempt++) {
        resent++;
        const again = await timed(method, url, body);
        if (again.ms < answer.ms) answer = again;
      }
      requests++;
      slowest = Math.max(slowest, answer.ms);
      if (answer.ms >= BOUND_MS) slow.push(`${what}: ${answer.ms.toFixed(0)} ms`);
      if (answer.status < 400 || answer.status >= 500) wrong.push(`${what}: ${answer.status}`);
      return answer;
    };
    // the first megabyte warms the parsers up: not what a request costs
    await timed('POST', '/api/accounts', Buffer.from(JSON.stringify({ address: 'a'.repeat(BODY_LIMIT - 20) })));

    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [op, operation] of Object.entries(ops)) {
        const method = op.toUpperCase();
        const params = operation.parameters ?? [];
        for (const shape of SHAPES) {
          for (const param of params) {
            const text = encodeURIComponent(fill(shape, URL_BUDGET, urlSize));
            const url =
              param.in === 'path' ? fillIds(template.replace(`{${param.name}}`, text)) : `${fillIds(template)}?${param.name}=${text}`;
            await send(`${method} ${template} ${param.in} ${param.name} (${shape.name}, ${text.length} bytes)`, method, url);
          }
          const schema = operation.requestBody?.content?.['application/json']?.schema as Schema | undefined;
          for (const field of schema ? stringFields(doc, schema) : []) {
            const budget = BODY_LIMIT - Buffer.byteLength(JSON.stringify(field.place('')));
            const body = Buffer.from(JSON.stringify(field.place(fill(shape, budget, jsonSize))));
            assert.ok(body.length <= BODY_LIMIT && body.length > BODY_LIMIT - 64, `${field.name}: ${body.length} bytes`);
            await send(`${method} ${template} ${field.name} (${shape.name}, ${body.length} bytes)`, method, fillIds(template), body);
          }
        }
      }
    }
    // a megabyte in the query: Node's parser refuses the head before the API sees it
    const huge = await send('a megabyte of query', 'GET', `/api/accounts?domainId=${'a'.repeat(BODY_LIMIT)}`);
    assert.equal(huge.status, 431);
    console.log(`${requests} requests (${resent} sent again), the slowest answered in ${slowest.toFixed(1)} ms`);
    assert.deepEqual(slow, [], `answered in ${BOUND_MS} ms or more`);
    assert.deepEqual(wrong, [], 'not a 4xx');
    assert.ok(requests >= 500, `${requests} requests`);
  });
});
