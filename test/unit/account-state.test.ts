import { TypedSearchAttributes } from '@temporalio/common';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCursor, encodeCursor } from '../../api/list-cursor';
import { accountStateOf, type AccountLabels, type StateInputs } from '../../core/account-state';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { memoUpdate, SEARCH_ATTRIBUTES, searchAttributeChanges } from '../../workflows/search-attributes';

const inputs = (more: Partial<StateInputs> = {}): StateInputs => ({
  phase: 'waiting',
  lastRun: { outcome: 'ok' },
  delivery: { backlog: 0, lastError: null },
  ...more,
});

const labels: AccountLabels = {
  ownerAccountId: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b',
  domainId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  host: 'pop.isp.test',
  protocol: 'pop3',
};

describe('account state', () => {
  test('disabled and reauthorization come from the phase; a failed cycle or a refusing target is failing', () => {
    assert.equal(accountStateOf(inputs()), 'ok');
    assert.equal(accountStateOf(inputs({ lastRun: null })), 'ok', 'no cycle yet is nothing wrong');
    assert.equal(accountStateOf(inputs({ lastRun: { outcome: 'skipped' } })), 'ok');
    assert.equal(accountStateOf(inputs({ lastRun: { outcome: 'failed' } })), 'failing');
    assert.equal(accountStateOf(inputs({ delivery: { backlog: 3, lastError: { message: '451' } } })), 'failing');
    assert.equal(accountStateOf(inputs({ delivery: { backlog: 0, lastError: { message: '451' } } })), 'ok', 'the backlog is gone');
    assert.equal(accountStateOf(inputs({ phase: 'disabled', lastRun: { outcome: 'failed' } })), 'disabled');
    assert.equal(accountStateOf(inputs({ phase: 'reauthorization_needed', lastRun: { outcome: 'failed' } })), 'reauthorization_needed');
  });

  test('search attributes are upserted only where they differ', () => {
    const none = searchAttributeChanges(new TypedSearchAttributes(), labels, 'ok');
    assert.deepEqual(
      none.map((c) => [c.key.name, c.value]),
      [
        ['MailpullOwnerId', labels.ownerAccountId],
        ['MailpullDomainId', labels.domainId],
        ['MailpullHost', labels.host],
        ['MailpullProtocol', 'pop3'],
        ['MailpullState', 'ok'],
      ],
    );
    const current = new TypedSearchAttributes(Object.values(SEARCH_ATTRIBUTES).map((key, i) => ({ key, value: none[i].value as string })));
    assert.deepEqual(searchAttributeChanges(current, labels, 'ok'), [], 'nothing changed, nothing to upsert');
    const failing = searchAttributeChanges(current, labels, 'failing');
    assert.deepEqual(
      failing.map((c) => [c.key, c.value]),
      [[SEARCH_ATTRIBUTES.state, 'failing']],
    );
    const name = defineSearchAttributeKey('MailpullName', SearchAttributeType.KEYWORD);
    const owner = defineSearchAttributeKey('MailpullOwner', SearchAttributeType.KEYWORD);
    const older = current.updateCopy([
      { key: name, value: "alice's ISP mailbox" },
      { key: owner, value: 'alice@example.test' },
    ]);
    assert.deepEqual(
      searchAttributeChanges(older, labels, 'ok').map((c) => [c.key.name, c.value]),
      [
        ['MailpullName', null],
        ['MailpullOwner', null],
      ],
      'the name and address an older version set are removed',
    );
  });

  test('the memo is rewritten only when a label changed, and loses the name and address an older version set', () => {
    assert.deepEqual(memoUpdate(undefined, labels), { ...labels });
    assert.equal(memoUpdate({ ...labels }, labels), null);
    assert.deepEqual(memoUpdate({ ...labels, host: 'old.isp.test' }, labels), { ...labels });
    assert.deepEqual(memoUpdate({ ...labels, name: "alice's ISP mailbox", owner: 'alice@example.test' }, labels), {
      ...labels,
      name: null,
      owner: null,
    });
  });

  test('list cursors round-trip, and anything else is refused, not thrown', () => {
    const last = { name: 'zz', id: '0b7f6a4e-8d1c-4c5e-9a61-2f0d3c9b8e71' };
    assert.deepEqual(decodeCursor(encodeCursor(last)), last);
    for (const bad of ['', 'not-a-cursor', encodeCursor({ name: 'x', id: 'nope' }), Buffer.from('{"a":1}').toString('base64url'), '%%%']) {
      assert.equal(decodeCursor(bad), null, bad);
    }
    assert.equal(decodeCursor(Buffer.from(JSON.stringify(['x'.repeat(1001), last.id])).toString('base64url')), null, 'names are bounded');
  });
});
