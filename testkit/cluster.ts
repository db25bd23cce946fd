import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test", which sets it`);
  return value;
}

/** The production engine of a test run: the Temporal server on the test PostgreSQL (scripts/temporal-server.sh). */
export const clusterEnv = {
  /** the frontend's port on 127.0.0.1 */
  port: () => Number(required('MAILPULL_TEST_CLUSTER_PORT')),
  /** where the server keeps its configuration and log; scripts/test.sh stops a server left there */
  dir: () => required('MAILPULL_TEST_CLUSTER_DIR'),
};

/** A CA, and certificates it signed, as PEM files in one directory. */
export interface TestPki {
  dir: string;
  ca: string;
  cert(name: string): { cert: string; key: string };
}

const openssl = (args: string[]): Promise<unknown> => run('openssl', args);

/**
 * A CA named `name` under dir/name with a server certificate for localhost and 127.0.0.1
 * (server.pem, server.key: the Temporal server's, also its own services' client certificate)
 * and a client certificate (client.pem, client.key). P-256 keys: quick to make.
 */
export async function makePki(dir: string, name: string): Promise<TestPki> {
  const base = path.join(dir, name);
  await mkdir(base, { recursive: true });
  const file = (f: string): string => path.join(base, f);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl([
    'req',
    '-x509',
    ...key,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  const sign = async (leaf: string, subject: string, extensions: string): Promise<void> => {
    await openssl(['req', ...key, '-subj', subject, '-keyout', file(`${leaf}.key`), '-out', file(`${leaf}.csr`)]);
    await writeFile(file(`${leaf}.ext`), extensions);
    await openssl([
      'x509',
      '-req',
      '-in',
      file(`${leaf}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${leaf}.ext`),
      '-out',
      file(`${leaf}.pem`),
    ]);
  };
  await sign(
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await sign('client', '/CN=mailpull worker', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return { dir: base, ca: file('ca.pem'), cert: (leaf) => ({ cert: file(`${leaf}.pem`), key: file(`${leaf}.key`) }) };
}

/** Starts the Temporal server with the project's script: schema job, server with mutual TLS (the PKI's CA), namespace job. */
export async function startCluster(databaseUrl: string, pki: TestPki): Promise<void> {
  await run(
    'bash',
    [path.join(ROOT, 'scripts/temporal-server.sh'), 'start', clusterEnv.dir(), String(clusterEnv.port()), databaseUrl, pki.dir],
    {
      timeout: 600_000,
    },
  );
}

export async function stopCluster(): Promise<void> {
  await run('bash', [path.join(ROOT, 'scripts/temporal-server.sh'), 'stop', clusterEnv.dir()]);
}
