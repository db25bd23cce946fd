import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../core/config';
import { libShValue } from '../support/lib-sh';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const root = path.resolve(__dirname, '../../..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const configurationDoc = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8');
const script = (name: string): string => readFileSync(path.join(root, 'scripts', name), 'utf8');

describe('configuration and deployment files agree', () => {
  test('the worker and the API in docker-compose.yml set only variables the code reads, and the required ones', () => {
    for (const service of ['worker', 'api']) {
      const env = Object.keys(compose.services[service].environment);
      for (const name of env) assert.ok((CONFIG_VARIABLES as readonly string[]).includes(name), `${service}: ${name} is read`);
      assert.ok(env.includes('DATABASE_URL') && env.includes('TEMPORAL_ADDRESS'), `${service} points at its servers`);
      assert.match(compose.services[service].environment.MAILPULL_SECRET_KEY, /:\?/, `${service} refuses to start without a secret key`);
      assert.ok(compose.services[service].build, `${service} is built from the Dockerfile`);
    }
    assert.equal(compose.services.worker.environment.TEMPORAL_ADDRESS, '${TEMPORAL_ADDRESS:-temporal:7233}');
    const temporalVariables = CONFIG_VARIABLES.filter((name) => name.startsWith('TEMPORAL_'));
    for (const service of ['worker', 'api']) {
      for (const name of temporalVariables) {
        assert.match(compose.services[service].environment[name], new RegExp(`^\\$\\{${name}:-`), `${service} passes ${name} through`);
      }
    }
    assert.ok(compose.services.temporal && compose.services['temporal-ui'] && compose.services.postgres);
    for (const service of Object.values<{ ports?: string[] }>(compose.services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:/, `${port} is published on loopback only`);
    }
  });

  test('Temporal runs the versions the tests run, its schema set up by its own tool; every service restarts and has a health check', () => {
    const images = Object.values<{ image?: string }>(compose.services).map((s) => s.image ?? '');
    assert.ok(!images.some((i) => i.includes('auto-setup')), 'not the deprecated auto-setup image');
    const server = libShValue('TEMPORAL_SERVER_VERSION');
    assert.match(server, /^\d+\.\d+\.\d+$/);
    assert.equal(compose.services.temporal.image, `temporalio/server:${server}`);
    assert.equal(compose.services['temporal-schema'].image, `temporalio/admin-tools:${server}`);
    assert.equal(compose.services['temporal-ui'].image, `temporalio/ui:${libShValue('TEMPORAL_UI_VERSION')}`);
    assert.deepEqual(compose.services['temporal-schema'].command, ['/mailpull/temporal-schema.sh'], 'the schema job is the shared script');
    assert.ok(compose.services['temporal-schema'].volumes.includes('./scripts/temporal-schema.sh:/mailpull/temporal-schema.sh:ro'));
    assert.match(script('temporal-schema.sh'), /update-schema -d "\$versioned"/);
    assert.equal(compose.services.temporal.depends_on['temporal-schema'].condition, 'service_completed_successfully');
    for (const [name, service] of Object.entries<{ restart?: string; healthcheck?: unknown }>(compose.services)) {
      if (service.restart === 'no') continue; // one-shot setup jobs
      assert.equal(service.restart, 'unless-stopped', `${name} restarts`);
      assert.ok(service.healthcheck, `${name} has a health check`);
    }
    assert.ok(compose.services.worker.deploy.replicas >= 2, 'several workers on one task queue');
    const healthFile = compose.services.worker.environment.MAILPULL_HEALTH_FILE;
    assert.ok(
      healthFile && compose.services.worker.healthcheck.test.join(' ').includes(healthFile),
      "the worker's health check reads the file it keeps",
    );
  });

  test("the dev server's scripts and the compose namespace job register exactly the workflow's search attributes", () => {
    const names = Object.values(SEARCH_ATTRIBUTES).map((key) => key.name);
    assert.deepEqual(libShValue('MAILPULL_SEARCH_ATTRIBUTES').split(' '), names);
    assert.ok(
      Object.values(SEARCH_ATTRIBUTES).every((key) => key.type === 'KEYWORD'),
      'scripts/temporal.sh registers them as Keyword',
    );
    const job = compose.services['temporal-namespace'];
    assert.deepEqual(job.command, ['/mailpull/temporal-namespace.sh'], 'the namespace job is the shared script');
    assert.equal(job.environment.MAILPULL_SEARCH_ATTRIBUTES, names.join(' '), 'the namespace job creates each');
    assert.match(script('temporal-namespace.sh'), /search-attribute create -n "\$namespace" --name "\$name" --type Keyword/);
  });

  test('scripts/temporal-server.sh sets every variable of the configuration template that docker-compose.yml sets', () => {
    const exported = new Set([...script('temporal-server.sh').matchAll(/\b([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1]));
    for (const name of Object.keys(compose.services.temporal.environment)) {
      if (name === 'BIND_ON_IP') continue; // loopback there, every interface in a container
      assert.ok(exported.has(name), `${name} is set by the script too`);
    }
    assert.ok(exported.has('BIND_ON_IP'));
    assert.deepEqual(
      Object.keys(compose.services['temporal-schema'].environment).sort(),
      Object.keys(compose.services.temporal.environment)
        .filter((n) => n !== 'BIND_ON_IP')
        .sort(),
    );
  });

  test('docs/configuration.md documents every variable', () => {
    for (const name of CONFIG_VARIABLES) assert.ok(configurationDoc.includes(`\`${name}\``), `${name} in docs/configuration.md`);
  });

  test('configuration errors name the variable', () => {
    const key = { MAILPULL_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') };
    assert.throws(() => loadConfig({ ...key }), /DATABASE_URL/);
    assert.throws(() => loadConfig({ ...key, DATABASE_URL: 'postgres://x', API_PORT: 'eighty' }), /API_PORT/);
    assert.equal(loadConfig({ ...key, DATABASE_URL: 'postgres://x' }).temporalAddress, '127.0.0.1:7233');
  });

  test('without a secret key nothing starts; one source only', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://x' }), /MAILPULL_SECRET_KEY or MAILPULL_SECRET_KEY_FILE is required/);
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://x', MAILPULL_SECRET_KEY: 'a', MAILPULL_SECRET_KEY_FILE: '/k' }), /not both/);
  });
});
