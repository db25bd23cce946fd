// test-file-timeout-ms: 900000
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { clusterEnv, makePki, startCluster, stopCluster, type TestPki } from '../testkit/cluster';
import { addUser, countOnServer, saveMessages } from '../testkit/dovecot';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { unusedPort } from '../testkit/ports';
import { TestSystem } from '../testkit/system';
import { startProxy, type TcpProxy } from '../testkit/tcp-proxy';
import { startWorker, type WorkerProcess } from '../testkit/worker-process';

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const TRACED = { MAILPULL_PROTOCOL_TRACE: '1', MAILPULL_COMMIT_MESSAGES: '5' };
const API_MAIN = path.resolve(__dirname, '../api/main.js');
const without = (env: Record<string, string>, ...names: string[]): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
const retrs = (worker: WorkerProcess): number =>
  worker
    .output()
    .split('\n')
    .filter((l) => l.includes('C: RETR ')).length;

/**
 * The production engine: the Temporal server built from Go source, on PostgreSQL, set up by the
 * project's scripts (schema job, namespace job) with mutual TLS on its frontend; two workers and
 * the API reach it with a client certificate through the TEMPORAL_TLS_* settings.
 */
describe('the Temporal server on PostgreSQL, mutual TLS, two workers', () => {
  let dir: string;
  let pki: TestPki;
  let otherPki: TestPki;
  let temporalEnv: Record<string, string>;
  let sys: TestSystem;
  let second: WorkerProcess;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mailpull-cluster-'));
    [pki, otherPki] = await Promise.all([makePki(dir, 'cluster CA'), makePki(dir, 'another CA')]);
    await startCluster(testEnv.databaseUrl(), pki);
    const client = pki.cert('client');
    temporalEnv = {
      TEMPORAL_ADDRESS: `127.0.0.1:${clusterEnv.port()}`,
      TEMPORAL_TLS_CLIENT_CERT_PATH: client.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: client.key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    };
    sys = await TestSystem.start({ temporalEnv, workerEnv: TRACED });
    second = await startWorker(sys.db.url, sys.taskQueue, { MAILPULL_SECRET_KEY_FILE: sys.keyFile, ...temporalEnv, ...TRACED });
  });
  after(async () => {
    await second?.stop();
    await sys?.close();
    await stopCluster();
    await rm(dir, { recursive: true, force: true });
  });

  test('POP3 and IMAP accounts collect from Dovecot end to end', async () => {
    const [popUser, imapUser] = await Promise.all([addUser('clpop'), addUser('climap')]);
    const popCorpus = Array.from({ length: 12 }, (_, i) => buildMessage({ subject: `pop ${i}`, body: textOfSize(2_000 + i) }));
    const imapCorpus = Array.from({ length: 12 }, (_, i) => buildMessage({ subject: `imap ${i}`, body: textOfSize(3_000 + i) }));
    await Promise.all([saveMessages(popUser, popCorpus), saveMessages(imapUser, imapCorpus)]);
    const owner = await sys.localAccount('owner@cluster.test');
    const pop = await sys.pop3Account(owner, popUser, { deletePolicy: 'immediately' });
    const imap = await sys.imapAccount(owner, imapUser);

    const [popStatus, imapStatus] = await Promise.all([sys.waitForCycles(pop.id, 1, 180_000), sys.waitForCycles(imap.id, 1, 180_000)]);
    assert.equal(popStatus.lastRun?.outcome, 'ok', JSON.stringify(popStatus.lastError));
    assert.equal(popStatus.lastRun?.delivered, 12);
    assert.equal(imapStatus.lastRun?.outcome, 'ok', JSON.stringify(imapStatus.lastError));
    assert.equal(imapStatus.lastRun?.delivered, 12);
    const stored = await sys.storedMessages(owner.id);
    assert.deepEqual(
      stored.map(digest).sort(),
      [...popCorpus, ...imapCorpus].map(digest).sort(),
      'each message stored once, byte for byte',
    );
    assert.equal(await countOnServer(popUser), 0, 'POP3: removed once delivered');
    assert.equal(await countOnServer(imapUser), 12, 'IMAP: left on the server');
    // the workflow's history lives in the server's PostgreSQL database
    const history = await sys.history(pop.id);
    assert.ok((history.events ?? []).length > 0);
  });

  test('a worker killed (SIGKILL) mid-cycle: the other finishes it, every message stored exactly once', async () => {
    const proxy: TcpProxy = await startProxy(testEnv.pop3Port(), 10);
    try {
      const user = await addUser('clkill');
      const corpus = Array.from({ length: 30 }, () => buildMessage({ body: textOfSize(100_000) }));
      await saveMessages(user, corpus);
      const owner = await sys.localAccount('owner@cluster-kill.test');
      const external = await sys.pop3Account(owner, user, { port: proxy.port, deletePolicy: 'immediately' });

      const workers = [sys.worker!, second];
      const running = await waitFor('a worker downloading', () => workers.find((w) => retrs(w) >= 5), 120_000, 20);
      const other = workers.find((w) => w !== running)!;
      const otherBefore = retrs(other);
      await running.kill();
      assert.ok((await sys.storedMessages(owner.id)).length < 30, 'killed mid-cycle');
      proxy.delayMs = 0;

      const status = await sys.waitForCycles(external.id, 1, 240_000);
      assert.equal(status.lastRun?.outcome, 'ok', JSON.stringify(status.lastError));
      assert.ok(retrs(other) > otherBefore, 'the surviving worker downloaded the rest');
      const stored = await sys.storedMessages(owner.id);
      assert.equal(stored.length, 30, 'every message exactly once');
      assert.deepEqual(stored.map(digest).sort(), corpus.map(digest).sort());
      assert.equal(await countOnServer(user), 0);
      assert.equal(proxy.maxActive, 1, 'at most one mail session of the account at any moment');
    } finally {
      await proxy.close();
    }
  });

  test('without a client certificate, with one from another CA, or trusting another CA, the worker stops and says why', async (t) => {
    const attempt = async (env: Record<string, string>): Promise<string> => {
      const failed = await startWorker(sys.db.url, sys.taskQueue, { MAILPULL_SECRET_KEY_FILE: sys.keyFile, ...env }).then(
        async (w) => {
          await w.stop();
          return null;
        },
        (err: Error) => err.message,
      );
      assert.ok(failed, `the worker started with ${JSON.stringify(env)}`);
      t.diagnostic(failed.split('\n').find((line) => line.includes('cannot connect')) ?? failed);
      return failed;
    };
    const noClientCert = without(temporalEnv, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH');
    assert.match(await attempt(noClientCert), /requires a client certificate.*TEMPORAL_TLS_CLIENT_CERT_PATH/);
    const stranger = otherPki.cert('client');
    assert.match(
      await attempt({ ...temporalEnv, TEMPORAL_TLS_CLIENT_CERT_PATH: stranger.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: stranger.key }),
      /refused the client certificate .*not signed by a CA the server trusts/,
    );
    assert.match(
      await attempt({ ...temporalEnv, TEMPORAL_TLS_SERVER_CA_CERT_PATH: otherPki.ca }),
      /the server's certificate is not signed by the CA in .*another CA\/ca\.pem \(TEMPORAL_TLS_SERVER_CA_CERT_PATH\)/,
    );
    const noServerCa = without(temporalEnv, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    assert.match(await attempt(noServerCa), /not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    assert.match(
      await attempt({ TEMPORAL_ADDRESS: temporalEnv.TEMPORAL_ADDRESS }),
      // whether the server's closing of the connection or mailpull's own TLS probe answers first
      /\(plaintext\): .*(if it speaks TLS,|the server speaks TLS:) set TEMPORAL_TLS=true/,
    );
  });

  test('the API process: with the client certificate it serves, without one it stops and says why', async () => {
    const api = async (env: Record<string, string>): Promise<{ code: number | null; output: string; health: number | null }> => {
      const port = await unusedPort();
      const child = spawn(process.execPath, [API_MAIN], {
        env: { ...process.env, DATABASE_URL: sys.db.url, MAILPULL_SECRET_KEY_FILE: sys.keyFile, API_PORT: String(port), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await waitFor('the API to listen or stop', () => output.includes('listening') || child.exitCode !== null, 60_000);
      if (!output.includes('listening')) return { code: await exited, output, health: null };
      const health = (await fetch(`http://127.0.0.1:${port}/health`)).status;
      child.kill('SIGTERM');
      return { code: await exited, output, health };
    };
    const served = await api(temporalEnv);
    assert.equal(served.health, 200, served.output);
    const refused = await api(without(temporalEnv, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH'));
    assert.equal(refused.code, 1);
    assert.match(
      refused.output,
      /mailpull api failed: cannot connect to Temporal at 127\.0\.0\.1:\d+ \(TLS\): the server requires a client certificate/,
    );
    const plaintext = await api({ TEMPORAL_ADDRESS: temporalEnv.TEMPORAL_ADDRESS });
    assert.equal(plaintext.code, 1);
    assert.match(plaintext.output, /\(plaintext\): .*(if it speaks TLS,|the server speaks TLS:) set TEMPORAL_TLS=true/);
  });
});
