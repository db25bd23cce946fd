import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import assert from 'node:assert/strict';
import type { ApiResponse } from '../../testkit/system';

export type Operation = { parameters?: { name: string; in: string }[]; responses: Record<string, ResponseDoc> };
export type ResponseDoc = { content?: Record<string, unknown>; headers?: Record<string, unknown> };
export type Spec = { paths: Record<string, Record<string, Operation>> };

const pointer = (...segments: string[]): string => segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Checks answers against the served document: the status must be listed for the operation, a
 * JSON body must validate against its schema (ajv, JSON Schema 2020-12), a raw body must have the
 * listed media type, listed headers must be there. Remembers which (operation, status) it saw.
 */
export class SpecChecker {
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  readonly seen = new Set<string>();
  private readonly problems: string[] = [];

  constructor(readonly spec: Spec) {
    addFormats(this.ajv);
    this.ajv.addVocabulary(['openapi', 'info', 'tags', 'security', 'paths', 'components']);
    this.ajv.addSchema(spec, 'openapi.json');
  }

  template(method: string, url: string): string | undefined {
    const segments = url.split('?')[0].split('/');
    return Object.keys(this.spec.paths).find((template) => {
      const parts = template.split('/');
      return (
        parts.length === segments.length &&
        parts.every((p, i) => (p.startsWith('{') ? segments[i] !== '' : p === segments[i])) &&
        this.spec.paths[template][method.toLowerCase()] !== undefined
      );
    });
  }

  check(method: string, url: string, res: ApiResponse): void {
    const where = `${method} ${url} → ${res.status}`;
    const template = this.template(method, url);
    if (!template) return void this.problems.push(`${where}: no operation in the document`);
    const op = method.toLowerCase();
    const doc = this.spec.paths[template][op].responses[String(res.status)];
    if (!doc) return void this.problems.push(`${where}: status not listed: ${res.raw.toString().slice(0, 300)}`);
    this.seen.add(`${op} ${template} ${res.status}`);
    const type = res.headers.get('content-type') ?? '';
    const media = Object.keys(doc.content ?? {});
    if (media.length === 0) {
      if (res.raw.length > 0) this.problems.push(`${where}: a body where the document lists none`);
    } else if (media[0] === 'application/json') {
      if (!type.startsWith('application/json')) return void this.problems.push(`${where}: content-type ${type}`);
      const validate = this.ajv.getSchema(
        `openapi.json#/${pointer('paths', template, op, 'responses', String(res.status), 'content', 'application/json', 'schema')}`,
      );
      assert.ok(validate);
      if (!validate(JSON.parse(res.raw.toString()))) {
        this.problems.push(`${where}: ${this.ajv.errorsText(validate.errors)}: ${res.raw.toString().slice(0, 500)}`);
      }
    } else if (type !== media[0]) {
      this.problems.push(`${where}: content-type ${type}, the document says ${media[0]}`);
    }
    for (const header of Object.keys(doc.headers ?? {})) {
      if (!res.headers.has(header)) this.problems.push(`${where}: no ${header} header`);
    }
  }

  /** The mismatches found since the last call. */
  takeProblems(): string[] {
    return this.problems.splice(0);
  }

  /** Every listed (operation, status) the checks did not see. */
  unseen(): string[] {
    return Object.entries(this.spec.paths).flatMap(([template, ops]) =>
      Object.entries(ops).flatMap(([op, { responses }]) =>
        Object.keys(responses)
          .map((status) => `${op} ${template} ${status}`)
          .filter((key) => !this.seen.has(key)),
      ),
    );
  }
}
