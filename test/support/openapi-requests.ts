import fc from 'fast-check';

/** The parts of a JSON Schema (2020-12, as zod writes it) the document's requests use. */
export type Schema = { [keyword: string]: any };

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Schema;
}

interface OperationDoc {
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}

export interface ApiDocument {
  paths: Record<string, Record<string, OperationDoc>>;
  components: { schemas: Record<string, Schema> };
}

export interface GeneratedRequest {
  method: string;
  /** the document's path template, e.g. /api/domains/{id} */
  template: string;
  url: string;
  body: unknown;
}

const COMPONENT = '#/components/schemas/';
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** What the generator draws from besides the schemas: ids of objects that exist, values by field name. */
export interface Hints {
  /** uuids of objects that exist, so requests reach the handlers and not only the 404s */
  uuids: string[];
  /** numeric ids (quarantined and stored messages) that exist */
  numericIds: string[];
  /** values to draw often for a field or parameter of this name */
  byName: Record<string, fc.Arbitrary<unknown>>;
  /** fields a handler needs beyond what its schema requires (e.g. the password of a password login), by "METHOD /template"; generated fields win */
  bases?: Record<string, Record<string, unknown>>;
  /**
   * fields whose every valid value but one is refused by what exists (the one target of the right
   * kind, say), by "METHOD /template"; without mistakes they win over generated fields
   */
  fixed?: Record<string, Record<string, unknown>>;
  /** ids that exist of the kind a path parameter names, e.g. the accounts for {id} of /api/accounts/{id} */
  pathIds?: (template: string, name: string) => string[];
}

/**
 * Requests from the served OpenAPI document: every operation, every parameter and body field.
 * Without mistakes the values are what the schemas admit; with them, any value may be replaced by
 * a near miss (a wrong type, a bound crossed by one, an empty or control-character string), a
 * required field left out or an unknown one added.
 */
export class RequestGenerator {
  constructor(
    private readonly doc: ApiDocument,
    private readonly hints: Hints,
  ) {}

  private resolve(schema: Schema): Schema {
    return typeof schema.$ref === 'string' ? this.resolve(this.doc.components.schemas[schema.$ref.slice(COMPONENT.length)]) : schema;
  }

  value(schema: Schema, mistakes: boolean, name?: string): fc.Arbitrary<unknown> {
    const s = this.resolve(schema);
    const hinted = name !== undefined ? this.hints.byName[name] : undefined;
    const admitted = hinted ? fc.oneof(hinted, this.admitted(s, mistakes)) : this.admitted(s, mistakes);
    return mistakes ? fc.oneof({ weight: 10, arbitrary: admitted }, { weight: 1, arbitrary: this.nearMiss(s) }) : admitted;
  }

  private admitted(s: Schema, mistakes: boolean): fc.Arbitrary<unknown> {
    const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
    if (branches) return fc.oneof(...branches.map((b) => this.value(b, mistakes)));
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
    switch (s.type) {
      case 'string':
        return this.string(s);
      case 'integer': {
        const min = Math.max(s.minimum ?? -MAX_SAFE, -MAX_SAFE);
        const max = Math.min(s.maximum ?? MAX_SAFE, MAX_SAFE);
        return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max));
      }
      case 'number':
        return fc.double({ min: s.minimum, max: s.maximum, noNaN: true, noDefaultInfinity: true });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = s.minItems ?? 0;
        return fc.array(this.value(s.items as Schema, mistakes), {
          minLength,
          maxLength: Math.min(s.maxItems ?? minLength + 3, minLength + 3),
        });
      }
      case 'object':
        return this.object(s, mistakes);
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  }

  private string(s: Schema): fc.Arbitrary<string> {
    const min = s.minLength ?? 0;
    const max = s.maxLength ?? 200;
    let text: fc.Arbitrary<string>;
    if (s.format === 'uuid') {
      text = this.hints.uuids.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...this.hints.uuids) }, fc.uuid()) : fc.uuid();
    } else if (s.format === 'uri') {
      text = fc.oneof(
        fc.webUrl(),
        fc.constantFrom('http://127.0.0.1:9/token', 'https://localhost/t', 'http://192.0.2.1/t', 'not a url', 'ftp://h/x'),
      );
    } else if (typeof s.pattern === 'string') {
      const matching = this.matching(s.pattern);
      text =
        /^\^\[1-9\]|\^\\d/.test(s.pattern) && this.hints.numericIds.length
          ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...this.hints.numericIds) }, matching)
          : matching;
    } else {
      text = fc.string({ minLength: min, maxLength: Math.min(max, 30) });
    }
    return text.filter((t) => t.length >= min && t.length <= max);
  }

  /** Texts a pattern matches; fast-check builds them for most patterns, but not with lookarounds: then any text. */
  private matching(pattern: string): fc.Arbitrary<string> {
    try {
      return fc.stringMatching(new RegExp(pattern), { size: 'small' });
    } catch {
      return fc.string({ maxLength: 30 });
    }
  }

  private object(s: Schema, mistakes: boolean): fc.Arbitrary<Record<string, unknown>> {
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    const names = Object.keys(properties);
    const required = (s.required ?? []) as string[];
    const optional = names.filter((name) => !required.includes(name));
    const values = Object.fromEntries(names.map((name) => [name, this.value(properties[name], mistakes, name)]));
    // any of the optional fields, or a few: a body with many is seldom one the handler can use, and its checks are what is tried
    const few = fc
      .tuple(
        fc.record(Object.fromEntries(required.map((name) => [name, values[name]]))),
        fc
          .subarray(optional, { maxLength: Math.min(3, optional.length) })
          .chain((picked) => fc.record(Object.fromEntries(picked.map((name) => [name, values[name]])))),
      )
      .map(([a, b]) => ({ ...a, ...b }));
    const record = fc.oneof(few, fc.record(values, { requiredKeys: required }));
    if (!mistakes || names.length === 0) return record;
    const rarely = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
    return fc
      .tuple(record, rarely(fc.constantFrom(...names)), rarely(fc.string({ minLength: 1, maxLength: 12 })))
      .map(([o, drop, extra]) => {
        const changed: Record<string, unknown> = { ...o };
        if (drop !== null) delete changed[drop];
        if (extra !== null && !(extra in properties)) changed[extra] = 1;
        return changed;
      });
  }

  private nearMiss(s: Schema): fc.Arbitrary<unknown> {
    const crossed: unknown[] = [];
    if (typeof s.maxLength === 'number') crossed.push('x'.repeat(s.maxLength + 1));
    if (typeof s.minimum === 'number') crossed.push(s.minimum - 1);
    if (typeof s.maximum === 'number') crossed.push(s.maximum + 1, s.maximum * 2 ** 20);
    if (s.type === 'integer') crossed.push(1.5);
    return fc.oneof(
      fc.constantFrom<unknown>(null, '', ' ', 0, -1, true, [], {}, 'a\r\nb', 'a\0b', '\u{1F600}', 1e308, ...crossed),
      fc.jsonValue({ maxDepth: 2 }),
    );
  }

  /** A request of any operation the document has. */
  request(mistakes: boolean): fc.Arbitrary<GeneratedRequest> {
    const operations = Object.entries(this.doc.paths).flatMap(([template, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), template, op })),
    );
    // deleting is one way an object ends; the others need it to exist
    const weighted = operations.map((o) => ({ weight: o.method === 'DELETE' ? 2 : 5, arbitrary: fc.constant(o) }));
    return fc.oneof(...weighted).chain(({ method, template, op }) => {
      const base = this.hints.bases?.[`${method} ${template}`];
      const fixed = mistakes ? undefined : this.hints.fixed?.[`${method} ${template}`];
      const params = op.parameters ?? [];
      const inPath = params.filter((p) => p.in === 'path');
      const inQuery = params.filter((p) => p.in === 'query');
      const bodySchema = op.requestBody?.content['application/json'].schema;
      return fc
        .record({
          path: fc.record(
            Object.fromEntries(
              inPath.map((p) => {
                const ids = this.hints.pathIds?.(template, p.name) ?? [];
                const generated = this.value(p.schema, mistakes, p.name);
                return [p.name, ids.length ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, generated) : generated];
              }),
            ),
          ),
          query: fc.record(Object.fromEntries(inQuery.map((p) => [p.name, this.value(p.schema, mistakes, p.name)])), {
            requiredKeys: inQuery.filter((p) => p.required).map((p) => p.name),
          }),
          body: bodySchema ? this.value(bodySchema, mistakes) : fc.constant(undefined),
        })
        .map(({ path, query, body }) => {
          // an empty or dot segment would name another path
          // a generated object may have no prototype, which String() cannot convert
          const text = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
          const segment = (v: unknown): string => (['', '.', '..'].includes(text(v)) ? '-' : encodeURIComponent(text(v)));
          const filled = template.replace(/\{(\w+)\}/g, (_, name: string) => segment(path[name]));
          const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, text(v)])).toString();
          const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
          const filledBody = isObject ? { ...base, ...body, ...fixed } : body;
          return { method, template, url: search ? `${filled}?${search}` : filled, body: filledBody };
        });
    });
  }
}
