import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useTestSystem } from '../testkit/system';

describe('the audit log', () => {
  const sys = useTestSystem({ worker: false });

  test('lists the changes of a session — token, action, object, field names — and no secret value', async () => {
    const adminId = sys.adminToken.split('_')[1];
    const domain = await sys.ok('POST', '/api/domains', { name: 'audit.test' });
    const owner = await sys.ok('POST', '/api/accounts', { address: 'owner@audit.test' });
    const external = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: 'audited',
      host: '127.0.0.1',
      username: 'someone',
      password: 'first-secret-value',
    });
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { password: 'second-secret-value', intervalMinutes: 5 });
    assert.equal((await sys.api('PATCH', `/api/external-accounts/${external.id}`, { port: 0 })).status, 400);
    await sys.ok('DELETE', `/api/external-accounts/${external.id}`, undefined, 204);

    const audit = await sys.ok('GET', '/api/audit');
    const entries = [...audit.entries].reverse();
    assert.deepEqual(
      entries.map((e: { action: string; object: string }) => [e.action, e.object]),
      [
        ['POST /api/domains', `/api/domains/${domain.id}`],
        ['POST /api/accounts', `/api/accounts/${owner.id}`],
        ['POST /api/external-accounts', `/api/external-accounts/${external.id}`],
        ['PATCH /api/external-accounts/:id', `/api/external-accounts/${external.id}`],
        ['DELETE /api/external-accounts/:id', `/api/external-accounts/${external.id}`],
      ],
      'every change once, the refused one not at all',
    );
    assert.ok(
      entries.every((e: { tokenId: string }) => e.tokenId === adminId),
      'made with the admin token',
    );
    assert.deepEqual(entries[3].fields, ['intervalMinutes', 'password']);
    assert.ok(entries[2].fields.includes('password') && entries[2].fields.includes('host'));
    const stored = JSON.stringify((await sys.db.pool.query('SELECT * FROM audit_log')).rows) + JSON.stringify(audit);
    assert.ok(!stored.includes('first-secret-value') && !stored.includes('second-secret-value'), 'no secret value in the log');

    const reader = await sys.createToken('read', 'auditor?');
    assert.equal((await sys.api('GET', '/api/audit', undefined, reader)).status, 403, 'admin tokens only');
    assert.equal((await sys.api('GET', '/api/audit?limit=0')).body.field, 'limit');
  });
});
