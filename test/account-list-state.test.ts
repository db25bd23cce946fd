import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { workflowIdFor } from '../workflows/definitions';
import { addUser, saveMessages } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { buildMessage } from '../testkit/messages';
import { useTestSystem, type TestSystem } from '../testkit/system';

interface Listed {
  id: string;
  name: string;
  state: string;
  recordedStatus: { phase: string; lastRun: { outcome: string; delivered: number } | null; lastError: { kind: string } | null } | null;
}

const list = async (sys: TestSystem, query: string): Promise<{ externalAccounts: Listed[]; nextCursor: string | null }> =>
  sys.ok('GET', `/api/external-accounts?${query}`);

const idsIn = async (sys: TestSystem, query: string): Promise<string[]> =>
  (await list(sys, query)).externalAccounts.map((e) => e.id).sort();

/** The workflow ids a Temporal visibility query finds (eventually consistent: polled). */
async function found(sys: TestSystem, query: string, expected: string[]): Promise<string[]> {
  const want = expected.map(workflowIdFor).sort();
  return waitFor(
    `Temporal finds ${query}`,
    async () => {
      const ids: string[] = [];
      for await (const execution of sys.client.workflow.list({ query: `${query} AND ExecutionStatus = "Running"` }))
        ids.push(execution.workflowId);
      ids.sort();
      return JSON.stringify(ids) === JSON.stringify(want) ? ids : null;
    },
    30_000,
    250,
  );
}

describe('account state kept in Postgres and on the workflow', () => {
  const sys = useTestSystem();

  test('the list filters by state in one query and pages; the Temporal UI finds accounts by owner, domain, host and state, never by a name', async () => {
    const owner = await sys.localAccount('alice@state.test');
    const good = await Promise.all(
      [1, 2].map(async (i) => {
        const user = await addUser('state');
        await saveMessages(user, [buildMessage({ to: 'alice@state.test', subject: `good ${i}` })]);
        return sys.pop3Account(owner, user, { name: i === 1 ? "alice's ISP mailbox" : `good ${i}` });
      }),
    );
    const failing = await Promise.all(
      [1, 2].map(async (i) =>
        sys.imapAccount(owner, await addUser('state'), { name: `wrong password ${i}`, password: 'not-the-password' }),
      ),
    );
    const disabled = await sys.pop3Account(owner, await addUser('state'), { name: 'switched off', enabled: false });
    const all = [...good, ...failing, disabled].map((e) => e.id).sort();

    await waitFor('every account recorded its status', async () => (await idsIn(sys, 'state=new')).length === 0, 120_000, 250);
    assert.deepEqual(await idsIn(sys, 'state=failing'), failing.map((e) => e.id).sort(), 'exactly the failing accounts');
    assert.deepEqual(await idsIn(sys, 'state=disabled'), [disabled.id]);
    assert.deepEqual(await idsIn(sys, 'state=ok'), good.map((e) => e.id).sort());
    assert.deepEqual(await idsIn(sys, 'state=reauthorization_needed'), []);

    const failed = (await list(sys, 'state=failing')).externalAccounts[0];
    assert.equal(failed.recordedStatus?.lastRun?.outcome, 'failed');
    assert.equal(failed.recordedStatus?.lastError?.kind, 'auth');
    const ok = (await list(sys, 'state=ok')).externalAccounts[0];
    assert.equal(ok.recordedStatus?.lastRun?.delivered, 1, 'the recorded run counts the delivered message');

    // pages of two: every account exactly once, in name order
    const paged: Listed[] = [];
    let cursor: string | null = null;
    do {
      const page: { externalAccounts: Listed[]; nextCursor: string | null } = await list(
        sys,
        `limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.ok(page.externalAccounts.length <= 2);
      paged.push(...page.externalAccounts);
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(paged.map((e) => e.id).sort(), all);
    const names = paged.map((e) => e.name);
    assert.deepEqual(
      names,
      [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );

    const badState = await sys.api('GET', '/api/external-accounts?state=sleepy');
    assert.equal(badState.status, 400);
    assert.equal(badState.body.field, 'state');
    const badCursor = await sys.api('GET', '/api/external-accounts?cursor=not-a-cursor');
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.field, 'cursor');

    // what the Temporal UI's search box does: ids, the server and the state, no names
    const domainId = (await sys.ok('GET', `/api/accounts/${owner.id}`)).domainId;
    await found(sys, `MailpullHost = "127.0.0.1" AND MailpullOwnerId = "${owner.id}" AND MailpullProtocol = "pop3"`, [
      ...good.map((e) => e.id),
      disabled.id,
    ]);
    await found(
      sys,
      `MailpullOwnerId = "${owner.id}" AND MailpullState = "failing"`,
      failing.map((e) => e.id),
    );
    await found(sys, `MailpullDomainId = "${domainId}" AND MailpullState = "disabled" AND MailpullProtocol = "pop3"`, [disabled.id]);

    // search attributes and the memo are not encrypted: no address, no name in them
    await sys.ok('PATCH', `/api/external-accounts/${good[1].id}`, { name: 'Alice Liddell' });
    await sys.ok('POST', `/api/external-accounts/${good[1].id}/connect-now`, undefined, 202);
    await sys.waitForCycles(good[1].id, 2);
    for (const account of [...good, ...failing, disabled]) {
      const described = await sys.client.workflow.getHandle(workflowIdFor(account.id)).describe();
      const visible = JSON.stringify({ memo: described.memo, attributes: described.typedSearchAttributes.getAll() });
      for (const personal of ['alice', 'Alice Liddell', 'state.test', 'ISP mailbox', 'wrong password', 'switched off', 'good 2']) {
        assert.ok(!visible.includes(personal), `${account.id}: "${personal}" in ${visible}`);
      }
      assert.deepEqual(described.memo, { ownerAccountId: owner.id, domainId, host: '127.0.0.1', protocol: account.protocol });
    }
  });
});
