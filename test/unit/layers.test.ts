import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../..');
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

/** A tree in the repository's folders: every import the rules allow, and one of each they refuse. */
const TREE: Record<string, string> = {
  'core/status.ts': 'export type Status = "ok";',
  'core/cycle-a.ts': 'import { b } from "./cycle-b";\nexport const a = (): number => b + 1;',
  'core/cycle-b.ts': 'import { a } from "./cycle-a";\nexport const b = 1;\nexport const c = a;',
  'secrets/uses-testkit.ts': 'import { kit } from "../testkit/kit";\nexport const s = kit;',
  'db/rows.ts': 'import type { Status } from "../core/status";\nexport const rows: Status[] = [];',
  'db/upward.ts': 'import type { Flow } from "../workflows/flow";\nexport type Up = Flow;',
  'mail/uses-db.ts': 'import { rows } from "../db/rows";\nexport const m = rows;',
  'activities/act.ts': 'import { rows } from "../db/rows";\nexport const act = (): unknown[] => rows;',
  'workflows/flow.ts': 'import type { act } from "../activities/act";\nexport type Flow = typeof act;',
  'workflows/runs-io.ts': 'import { act } from "../activities/act";\nexport const w = act;',
  'api/uses-mail.ts': 'import { m } from "../mail/uses-db";\nexport const r = m;',
  'api/answers.ts': 'export type Answer = { id: string };\nexport const route = "/api";',
  'cli/reads-answers.ts': 'import type { Answer } from "../api/answers";\nexport const seen: Answer[] = [];',
  'cli/runs-api.ts': 'import { route } from "../api/answers";\nexport const c = route;',
  'web/page.ts': 'import { rows } from "../db/rows";\nexport const p = rows;',
  'testkit/kit.ts': 'import { rows } from "../db/rows";\nexport const kit = rows;',
  'testkit/uses-test.ts': 'import { t } from "../test/t.test";\nexport const k = t;',
  'test/t.test.ts': 'import { kit } from "../testkit/kit";\nimport { act } from "../activities/act";\nexport const t = [kit, act];',
  'test/uses-bench.test.ts': 'import { b } from "../bench/b";\nexport const u = b;',
  'bench/b.ts': 'import { kit } from "../testkit/kit";\nexport const b = kit;',
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }),
};

test('the layer rules of npm run lint refuse each upward import and each cycle, and only those', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mailpull-layers-'));
  try {
    for (const [file, text] of Object.entries(TREE)) {
      await mkdir(path.join(dir, path.dirname(file)), { recursive: true });
      await writeFile(path.join(dir, file), `${text}\n`);
    }
    // as package.json's lint script runs it: the exit status counts the violations
    const run = promisify(execFile)(process.execPath, [DEPCRUISE, '--config', path.join(ROOT, '.dependency-cruiser.cjs'), '.'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const failed = await run.then(
      () => assert.fail('depcruise passed a tree with upward imports'),
      (err: { code: number; stdout: string }) => err,
    );
    // "error <rule>: <from> → <to>", a cycle with its further steps on the lines after
    const found = [...failed.stdout.matchAll(/error ([\w-]+): (\S+) →\s+(\S+)/g)]
      .map(([, rule, from, to]) => `${rule}: ${from} → ${to}`)
      .sort();
    assert.equal(failed.code, found.length, failed.stdout);
    assert.deepEqual(found, [
      'api-not-worker-side: api/uses-mail.ts → mail/uses-db.ts',
      'cli-only-types-from-api: cli/runs-api.ts → api/answers.ts',
      'db-imports-downward: db/upward.ts → workflows/flow.ts',
      'mail-imports-downward: mail/uses-db.ts → db/rows.ts',
      'no-circular: core/cycle-a.ts → core/cycle-b.ts',
      'product-not-tests: secrets/uses-testkit.ts → testkit/kit.ts',
      'test-and-bench-apart: test/uses-bench.test.ts → bench/b.ts',
      'testkit-below-tests: testkit/uses-test.ts → test/t.test.ts',
      'web-is-browser-code: web/page.ts → db/rows.ts',
      'workflows-only-types-from-io: workflows/runs-io.ts → activities/act.ts',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
