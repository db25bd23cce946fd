import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadTemporalSettings } from '../../core/config';
import { temporalConnectOptions } from '../../core/temporal-connection';

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
    const cloud = loadTemporalSettings({ TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'mp.abc12', TEMPORAL_API_KEY: 'k' });
    assert.deepEqual(temporalConnectOptions(cloud), { address: 'eu-west-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'k' });
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
      assert.throws(() => temporalConnectOptions(loadTemporalSettings(env)), /TEMPORAL_TLS_CLIENT_KEY_PATH: .*client\.key holds no PEM private key/);
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
});
