import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { libShValue } from './support/lib-sh';

test('the Temporal CLI the tests run embeds the server and UI versions docker-compose.yml runs', async () => {
  const cache = process.env.MAILPULL_CACHE_DIR || path.join(os.homedir(), '.cache/mailpull');
  const cli = libShValue('TEMPORAL_CLI_VERSION');
  const { stdout } = await promisify(execFile)('go', ['version', '-m', path.join(cache, `temporal-${cli}`, 'temporal')]);
  const dep = (module: string): string | undefined =>
    stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .find((f) => f[0] === 'dep' && f[1] === module)?.[2];
  assert.equal(dep('go.temporal.io/server'), `v${libShValue('TEMPORAL_SERVER_VERSION')}`);
  assert.equal(dep('github.com/temporalio/ui-server/v2'), `v${libShValue('TEMPORAL_UI_VERSION')}`);
});
