import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedFieldNames } from '../../core/audit-fields';

test('the audit log gets the names of the fields a change set, one level deep, sorted, never a value', () => {
  const names = changedFieldNames({
    password: 'hunter2',
    intervalMinutes: 5,
    oauth: { refreshToken: 'r-secret', clientId: 'c' },
    folders: { mode: 'inbox' },
  });
  assert.deepEqual(names, ['folders.mode', 'intervalMinutes', 'oauth.clientId', 'oauth.refreshToken', 'password']);
  assert.ok(!JSON.stringify(names).includes('hunter2') && !JSON.stringify(names).includes('r-secret'));
  assert.deepEqual(changedFieldNames(null), []);
  assert.deepEqual(changedFieldNames(['a']), []);
  assert.equal(changedFieldNames(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`f${i}`, i]))).length, 50);
});
