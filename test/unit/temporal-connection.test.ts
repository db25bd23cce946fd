import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadTemporalSettings } from '../../core/config';
import { explainTemporalConnectFailure, temporalConnectOptions } from '../../core/temporal-connection';

describe('Temporal connection settings', () => {
  test('plaintext to 127.0.0.1:7233 and the default namespace unless told otherwise', () => {
    assert.deepEqual(loadTemporalSettings({}), {
      temporalAddress: '127.0.0.1:7233',
      temporalNamespace: 'default',
      temporalTls: null,
      temporalApiKey: null,
    });
    assert.deepEqual(temporalConnectOptions(loadTemporalSettings({ TEMPORAL_ADDRESS: 'temporal:7233' })), { address: 'temporal:7233' });
  });

  test('any TLS setting or an API key turns TLS on; TEMPORAL_TLS=false with them is a contradiction', () => {
    assert.ok(loadTemporalSettings({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).temporalTls);
    assert.ok(loadTemporalSettings({ TEMPORAL_TLS: 'true' }).temporalTls);
    const cloud = loadTemporalSettings({
      TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'mp.abc12',
      TEMPORAL_API_KEY: 'k',
    });
    assert.deepEqual(temporalConnectOptions(cloud), {
      address: 'eu-west-1.aws.api.temporal.io:7233',
      tls: {},
      apiKey: 'k',
      metadata: { 'temporal-namespace': 'mp.abc12' },
    });
    assert.throws(() => loadTemporalSettings({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }), /TEMPORAL_TLS is false/);
    assert.throws(() => loadTemporalSettings({ TEMPORAL_TLS: 'maybe' }), /TEMPORAL_TLS must be true or false/);
    assert.equal(loadTemporalSettings({ TEMPORAL_TLS: 'false' }).temporalTls, null);
  });

  test('a client certificate needs its key; the files are read when connecting, and a bad one names its variable', async () => {
    assert.throws(() => loadTemporalSettings({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }), /TEMPORAL_TLS_CLIENT_KEY_PATH go together/);
    const dir = await mkdtemp(path.join(tmpdir(), 'mailpull-tls-'));
    try {
      const cert = path.join(dir, 'client.pem');
      const key = path.join(dir, 'client.key');
      await writeFile(cert, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      await writeFile(key, 'not a key');
      const env = { TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_CA_CERT_PATH: cert };
      assert.throws(
        () => temporalConnectOptions(loadTemporalSettings(env)),
        /TEMPORAL_TLS_CLIENT_KEY_PATH: .*client\.key holds no PEM private key/,
      );
      await writeFile(key, '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
      const options = temporalConnectOptions(loadTemporalSettings({ ...env, TEMPORAL_TLS_SERVER_NAME: 'localhost' }));
      assert.equal(options.tls?.serverNameOverride, 'localhost');
      assert.ok(options.tls?.clientCertPair?.crt.toString().includes('CERTIFICATE'));
      assert.ok(options.tls?.serverRootCACertificate);
      assert.throws(
        () => temporalConnectOptions(loadTemporalSettings({ ...env, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'missing.pem') })),
        /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .*missing\.pem \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("the SDK's transport errors become the cause and the setting to change", () => {
    // as the worker's native client reported them against the Temporal server with mutual TLS (test/cluster.test.ts)
    const transport = (what: string): Error =>
      new Error(
        `Failed to call GetSystemInfo: code: 'Unknown error', message: "transport error", source: tonic::transport::Error(Transport, ${what})`,
      );
    const mtls = loadTemporalSettings({
      TEMPORAL_ADDRESS: 't:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/c.key',
    });
    const tls = loadTemporalSettings({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS: 'true' });
    const plain = loadTemporalSettings({ TEMPORAL_ADDRESS: 't:7233' });
    const cases: [Error, typeof plain, RegExp][] = [
      [
        transport('hyper::Error(Io, Custom { kind: InvalidData, error: "received fatal alert: CertificateRequired" }))'),
        tls,
        /^cannot connect to Temporal at t:7233 \(TLS\): the server requires a client certificate \(mutual TLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH/,
      ],
      [
        transport('hyper::Error(Io, Custom { kind: InvalidData, error: "received fatal alert: UnknownCA" }))'),
        mtls,
        /\(mutual TLS\): the server refused the client certificate \/c\.pem \(TEMPORAL_TLS_CLIENT_CERT_PATH\): it is not signed by a CA the server trusts/,
      ],
      [
        new Error(
          'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))',
        ),
        mtls,
        /not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/,
      ],
      [new Error('InvalidCertificate(NotValidForName)'), tls, /set TEMPORAL_TLS_SERVER_NAME/],
      [
        transport('hyper::Error(Io, Custom { kind: BrokenPipe, error: "stream closed because of a broken pipe" }))'),
        plain,
        /\(plaintext\): the server closed the connection during the first exchange: if it speaks TLS, set TEMPORAL_TLS=true/,
      ],
      [
        new Error(
          'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
        ),
        plain,
        /nothing answers there: check TEMPORAL_ADDRESS/,
      ],
      [
        new Error('16 UNAUTHENTICATED: Request unauthorized.'),
        loadTemporalSettings({ TEMPORAL_API_KEY: 'k' }),
        /the server refused the API key \(TEMPORAL_API_KEY\)/,
      ],
    ];
    for (const [err, settings, expected] of cases) assert.match(explainTemporalConnectFailure(err, settings), expected);
    assert.match(explainTemporalConnectFailure(new Error('something new'), plain), /: see the details \[something new\]$/);
    // a closed connection says little: the alert our own handshake heard says which certificate is refused
    const brokenPipe = transport('hyper::Error(Io, Custom { kind: BrokenPipe, error: "stream closed because of a broken pipe" }))');
    assert.match(
      explainTemporalConnectFailure(brokenPipe, tls, 'SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:SSL alert number 48'),
      /the server refused the client certificate/,
    );
    assert.match(
      explainTemporalConnectFailure(brokenPipe, plain, 'the server completed a TLS handshake'),
      /\(plaintext\): the server speaks TLS/,
    );
  });
});
