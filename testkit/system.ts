import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app';
import type { ApiLimits } from '../api/deps';
import { DEFAULT_MAX_MESSAGE_BYTES, loadTemporalSettings } from '../core/config';
import { connectTemporal } from '../core/temporal-connection';
import type { NetworkPolicy } from '../core/network-policy';
import { createWorkflowControl, type StatusView } from '../api/workflow-control';
import { insertApiToken } from '../db/api-tokens';
import { newApiToken, type TokenScope } from '../secrets/api-token';
import { loadKeyring } from '../secrets/keyring';
import { generateKey } from '../secrets/secret-box';
import { workflowIdFor } from '../workflows/definitions';
import { createTestDatabase, type TestDatabase } from './database';
import { caCertificate, type DovecotUser } from './dovecot';
import { testEnv, waitFor } from './env';
import { testNetworkPolicy } from './network-policy';
import { temporalRetriesSettled } from './faults';
import { startWorker, type WorkerProcess } from './worker-process';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  raw: Buffer;
}

/**
 * Everything a test file needs, all real: its own database on the test PostgreSQL, its own task
 * queue on the Temporal dev server, the worker as a child process, and the HTTP API on a port.
 */
export class TestSystem {
  worker: WorkerProcess | null = null;
  private server: ServerType | null = null;
  baseUrl = '';
  /** an admin API token, sent by api() unless told otherwise */
  adminToken = '';
  /** what the API logged */
  readonly apiLog: string[] = [];

  private constructor(
    readonly db: TestDatabase,
    readonly taskQueue: string,
    readonly connection: Connection,
    readonly client: Client,
    /** the key file the API and the worker seal secrets with (MAILPULL_SECRET_KEY_FILE) */
    readonly keyFile: string,
    /** how the API and the workers reach Temporal (TEMPORAL_ADDRESS, TEMPORAL_TLS_*) */
    readonly temporalEnv: Record<string, string>,
  ) {}

  /**
   * `apiLimits` defaults to the production body limit, rates no test's polling reaches and the
   * worker's size limit (from `workerEnv`); the API's and the worker's network policy
   * (`apiNetworkPolicy`, `workerEnv`) to loopback and the test Dovecot's LMTP socket directory.
   * `temporalEnv` (default: the test dev server) is read as the worker and the API read theirs.
   */
  static async start(
    options: {
      worker?: boolean;
      workerEnv?: Record<string, string>;
      apiLimits?: Partial<ApiLimits>;
      apiNetworkPolicy?: NetworkPolicy;
      temporalEnv?: Record<string, string>;
    } = {},
  ): Promise<TestSystem> {
    const db = await createTestDatabase();
    const temporalEnv = options.temporalEnv ?? { TEMPORAL_ADDRESS: testEnv.temporalAddress() };
    const connection = await connectTemporal(loadTemporalSettings(temporalEnv), (o) => Connection.connect(o));
    const taskQueue = `test-${randomBytes(6).toString('hex')}`;
    const keyFile = path.join(await mkdtemp(path.join(tmpdir(), 'mailpull-keys-')), 'secret-keys');
    await writeFile(keyFile, `${generateKey()}\n`, { mode: 0o600 });
    const system = new TestSystem(db, taskQueue, connection, new Client({ connection }), keyFile, temporalEnv);
    system.adminToken = await system.createToken('admin');
    const app = createApp(
      {
        pool: db.pool,
        keyring: loadKeyring({ kind: 'file', path: keyFile }),
        workflows: createWorkflowControl(connection, 'default', taskQueue),
        limits: {
          maxBodyBytes: 1024 * 1024,
          requestsPerMinute: 1_000_000,
          authFailuresPerMinute: 1_000_000,
          // the API checks accounts' own limits against the worker's
          maxMessageBytes: Number(options.workerEnv?.MAILPULL_MAX_MESSAGE_BYTES ?? DEFAULT_MAX_MESSAGE_BYTES),
          ...options.apiLimits,
        },
        networkPolicy: options.apiNetworkPolicy ?? testNetworkPolicy(),
      },
      (line) => system.apiLog.push(line),
      { authLog: (line) => system.apiLog.push(line) },
    );
    await new Promise<void>((resolve) => {
      system.server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        system.baseUrl = `http://127.0.0.1:${info.port}`;
        resolve();
      });
    });
    if (options.worker !== false) await system.startWorker(options.workerEnv);
    return system;
  }

  async startWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
    this.worker = await startWorker(this.db.url, this.taskQueue, { MAILPULL_SECRET_KEY_FILE: this.keyFile, ...this.temporalEnv, ...env });
    return this.worker;
  }

  /** An API token of the given scope, made the way the tokens command makes it. */
  async createToken(scope: TokenScope, name = `test ${scope}`): Promise<string> {
    const token = newApiToken();
    await insertApiToken(this.db.pool, { id: token.id, name, scope, secretHash: token.secretHash });
    return token.token;
  }

  async api<T = any>(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = this.adminToken,
    extraHeaders: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const raw = Buffer.from(await res.arrayBuffer());
    const isJson = res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, raw, body: (isJson ? JSON.parse(raw.toString()) : raw.toString()) as T };
  }

  /** Calls the API and fails unless the status is the expected one. */
  async ok<T = any>(method: string, path: string, body?: unknown, expected = method === 'POST' ? 201 : 200): Promise<T> {
    const res = await this.api<T>(method, path, body);
    if (res.status !== expected) {
      throw new Error(`${method} ${path} answered ${res.status}, expected ${expected}: ${res.raw.toString()}`);
    }
    return res.body;
  }

  /** A domain and an owner account in it, ready to own external accounts. */
  async localAccount(address: string): Promise<{ id: string; address: string }> {
    const domainName = address.split('@')[1];
    const domains = await this.ok<{ domains: { name: string }[] }>('GET', '/api/domains');
    if (!domains.domains.some((d) => d.name === domainName)) await this.ok('POST', '/api/domains', { name: domainName });
    return this.ok('POST', '/api/accounts', { address });
  }

  /** A POP3 external account on the test Dovecot (STLS, trusting the test CA), created through the API. */
  pop3Account(owner: { id: string }, user: DovecotUser, extra: Record<string, unknown> = {}) {
    return this.remoteAccount('pop3', testEnv.pop3Port(), owner, user, extra);
  }

  /** An IMAP external account on the test Dovecot (STARTTLS, trusting the test CA), created through the API. */
  imapAccount(owner: { id: string }, user: DovecotUser, extra: Record<string, unknown> = {}) {
    return this.remoteAccount('imap', testEnv.imapPort(), owner, user, extra);
  }

  private async remoteAccount(
    protocol: 'pop3' | 'imap',
    port: number,
    owner: { id: string },
    user: DovecotUser,
    extra: Record<string, unknown>,
  ): Promise<{ id: string; [key: string]: unknown }> {
    return this.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: `${protocol} ${user.name}`,
      protocol,
      host: '127.0.0.1',
      port,
      tlsMode: 'detect',
      tlsCa: await caCertificate(),
      username: user.name,
      password: user.password,
      ...extra,
    });
  }

  /** Every stored copy in a local account: folder, raw bytes, receive time and flags, in delivery order. */
  async storedCopies(accountId: string): Promise<{ folder: string; raw: Buffer; internalDate: Date; flags: string[] }[]> {
    const { rows } = await this.db.pool.query<{ folder: string; raw: Buffer; internal_date: Date; flags: string[] }>(
      'SELECT folder, raw, internal_date, flags FROM messages WHERE account_id = $1 ORDER BY id',
      [accountId],
    );
    return rows.map((r) => ({ folder: r.folder, raw: r.raw, internalDate: r.internal_date, flags: [...r.flags].sort() }));
  }

  /** Raw bytes of every message in a local account's store, in delivery order. */
  async storedMessages(accountId: string): Promise<Buffer[]> {
    const { rows } = await this.db.pool.query<{ raw: Buffer }>('SELECT raw FROM messages WHERE account_id = $1 ORDER BY id', [accountId]);
    return rows.map((r) => r.raw);
  }

  async status(externalAccountId: string): Promise<StatusView> {
    return this.ok<StatusView>('GET', `/api/external-accounts/${externalAccountId}/status`);
  }

  /** Waits until the account finished `cycles` cycles in total. */
  async waitForCycles(externalAccountId: string, cycles: number, timeoutMs = 120_000): Promise<StatusView> {
    return waitFor(
      `${cycles} finished cycle(s) of ${externalAccountId}`,
      async () => {
        const res = await this.api<StatusView>('GET', `/api/external-accounts/${externalAccountId}/status`);
        return res.status === 200 && res.body.counts.cycles >= cycles ? res.body : null;
      },
      timeoutMs,
      200,
    );
  }

  /** The full event history of an account's workflow (all runs' current one). */
  async history(externalAccountId: string) {
    return this.client.workflow.getHandle(workflowIdFor(externalAccountId)).fetchHistory();
  }

  /** Every string and byte payload in an account's workflow history, as one searchable text. */
  async historyText(externalAccountId: string): Promise<string> {
    const parts: string[] = [];
    const walk = (value: unknown): void => {
      if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('latin1'));
      else if (typeof value === 'string') parts.push(value);
      else if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    walk(await this.history(externalAccountId));
    return parts.join('\n');
  }

  async close(): Promise<void> {
    const { rows } = await this.db.pool.query<{ id: string }>('SELECT id FROM external_accounts');
    for (const { id } of rows) {
      await this.client.workflow
        .getHandle(workflowIdFor(id))
        .terminate('test finished')
        .catch(() => undefined);
    }
    await this.worker?.stop();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await temporalRetriesSettled();
    await this.connection.close();
    await this.db.drop();
    await rm(path.dirname(this.keyFile), { recursive: true, force: true });
  }
}

/**
 * The TestSystem of the enclosing describe: started before its tests, closed after them. The
 * returned object stands for the system once started (a test file's own before hooks run later).
 */
export function useTestSystem(options?: Parameters<typeof TestSystem.start>[0]): TestSystem {
  let started: TestSystem | null = null;
  before(async () => {
    started = await TestSystem.start(options);
  });
  after(async () => {
    await started?.close();
  });
  return new Proxy({} as TestSystem, {
    get(_, key) {
      if (!started) throw new Error('the test system starts in a before hook: use it inside tests and hooks');
      const value: unknown = Reflect.get(started, key, started);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
