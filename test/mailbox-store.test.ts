import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { storeMessages, type StoredMessageInput } from '../db/mailbox-store';
import { inTransaction } from '../db/pool';
import { useTestSystem } from '../testkit/system';

describe('the built-in store, many messages at once (PostgreSQL)', () => {
  const sys = useTestSystem({ worker: false });

  test('small messages in one statement, a large one in pieces: in order, byte for byte, a second time a no-op', async () => {
    const owner = await sys.localAccount('owner@store.test');
    const external = await sys.pop3Account(owner, { name: 'nobody', password: 'unused' });
    const input = (uid: string, raw: Buffer): StoredMessageInput => ({
      accountId: owner.id,
      folder: 'INBOX',
      raw,
      internalDate: new Date('2026-11-21T10:00:00Z'),
      flags: ['\\Seen'],
      summary: { subject: uid, from: null, messageId: null },
      contentHash: `hash-${uid}`,
      source: { externalAccountId: external.id, folder: '', uidvalidity: '', uid, generation: 0 },
    });
    // every byte value, and more than the piecewise threshold (16 MiB) in pieces that do not divide it
    const large = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(21 * 1024 * 1024 + 7)]);
    const a = input('a', Buffer.from('Subject: a\r\n\r\nfirst\r\n'));
    const b = input('b', large);
    const c = input('c', Buffer.from('Subject: c\r\n\r\nthird\r\n'));
    const d = input('d', Buffer.from('Subject: d\r\n\r\nfourth\r\n'));

    assert.deepEqual(await inTransaction(sys.db.pool, (tx) => storeMessages(tx, [a, b, c])), [true, true, true]);
    assert.deepEqual(await inTransaction(sys.db.pool, (tx) => storeMessages(tx, [b, d, a])), [false, true, false], 'stored already');

    const { rows } = await sys.db.pool.query<{ source_uid: string; raw: Buffer; size: number; flags: string[] }>(
      'SELECT source_uid, raw, size, flags FROM messages WHERE account_id = $1 ORDER BY id',
      [owner.id],
    );
    assert.deepEqual(
      rows.map((r) => r.source_uid),
      ['a', 'b', 'c', 'd'],
    );
    for (const [row, expected] of rows.map((r, i) => [r, [a, b, c, d][i]] as const)) {
      assert.ok(row.raw.equals(expected.raw), `message ${row.source_uid} byte for byte`);
      assert.equal(row.size, expected.raw.length);
      assert.deepEqual(row.flags, ['\\Seen']);
    }
  });
});
