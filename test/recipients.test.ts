import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHeaders } from '../core/headers';
import { addUser, saveMessages } from '../testkit/dovecot';
import { buildMessage } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('delivery to recipients found in MIME headers', () => {
  const sys = useTestSystem();

  test('each header routes to the right local account; unknown, disabled and non-local addresses are ignored; nobody → owner', async () => {
    const owner = await sys.localAccount('owner@route.test');
    const local: Record<string, { id: string }> = {};
    for (const name of ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gil']) local[name] = await sys.localAccount(`${name}@route.test`);
    await sys.ok('PATCH', `/api/accounts/${local.gil.id}`, { enabled: false });
    // a local account of another local domain is local too; a disabled domain's is not
    const other = await sys.localAccount('hal@other.test');
    const offDomain = await sys.localAccount('ida@off.test');
    const offDomainId = (await sys.ok('GET', `/api/accounts/${offDomain.id}`)).domainId;
    await sys.ok('PATCH', `/api/domains/${offDomainId}`, { enabled: false });

    const messages = [
      buildMessage({ subject: 'to', to: 'Ann <ANN@route.test>' }),
      buildMessage({ subject: 'cc', to: 'list@remote.example', headers: [['Cc', 'bob@route.test, stranger@remote.example']] }),
      buildMessage({ subject: 'x-rcpt-to', to: 'list@remote.example', headers: [['X-RCPT-TO', '<cat@route.test>']] }),
      buildMessage({ subject: 'x-envelope-to', to: 'list@remote.example', headers: [['X-Envelope-To', 'dan@route.test']] }),
      buildMessage({
        subject: 'received',
        to: 'list@remote.example',
        headers: [
          [
            'Received',
            'from mx.remote.example by pop.remote.example with LMTP id 42\r\n\tfor <eve@route.test>; Sat, 21 Nov 2026 09:00:00 +0000',
          ],
        ],
      }),
      buildMessage({ subject: 'two', to: 'fay@route.test, hal@other.test', headers: [['Cc', 'fay@route.test']] }),
      buildMessage({ subject: 'bcc', to: 'undisclosed-recipients:;' }),
      buildMessage({ subject: 'unknown', to: 'nobody@route.test, someone@remote.example' }),
      buildMessage({ subject: 'disabled', to: 'gil@route.test, ida@off.test' }),
    ];
    const user = await addUser();
    await saveMessages(user, messages);
    const external = await sys.pop3Account(owner, user, { mimeRecipients: { enabled: true } });
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastRun?.delivered, messages.length);

    const subjects = async (accountId: string) =>
      (await sys.storedMessages(accountId)).map((raw) => parseHeaders(raw).find((h) => h.name === 'subject')?.value).sort();
    assert.deepEqual(await subjects(local.ann.id), ['to']);
    assert.deepEqual(await subjects(local.bob.id), ['cc']);
    assert.deepEqual(await subjects(local.cat.id), ['x-rcpt-to']);
    assert.deepEqual(await subjects(local.dan.id), ['x-envelope-to']);
    assert.deepEqual(await subjects(local.eve.id), ['received']);
    assert.deepEqual(await subjects(local.fay.id), ['two'], 'stored once although named twice');
    assert.deepEqual(await subjects(other.id), [], "another local domain's account gets nothing by default");
    assert.deepEqual(await subjects(local.gil.id), []);
    assert.deepEqual(await subjects(offDomain.id), []);
    assert.deepEqual(await subjects(owner.id), ['bcc', 'disabled', 'unknown']);
    const { rows } = await sys.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM messages');
    assert.equal(Number(rows[0].n), 9, "one copy per resolved local recipient of the owner's domain, nothing else");
  });

  test("with allDomains, accounts of other local domains receive too; off, the owner's domain only", async () => {
    const owner = await sys.localAccount('wide@route.test');
    const far = await sys.localAccount('jo@far.test');
    const user = await addUser();
    await saveMessages(user, [buildMessage({ subject: 'far', to: 'jo@far.test' })]);
    const external = await sys.pop3Account(owner, user, { mimeRecipients: { enabled: true, allDomains: true } });
    assert.equal((external.mimeRecipients as { allDomains: boolean }).allDomains, true);
    await sys.waitForCycles(external.id, 1);
    assert.equal((await sys.storedMessages(far.id)).length, 1, 'delivered across domains, as the account allows');
    assert.equal((await sys.storedMessages(owner.id)).length, 0);
  });

  test('with the option off everything goes to the owner', async () => {
    const owner = await sys.localAccount('plain@route.test');
    const user = await addUser();
    await saveMessages(user, [buildMessage({ to: 'ann@route.test' }), buildMessage({ to: 'bob@route.test' })]);
    const annId = (await sys.ok('GET', '/api/accounts')).accounts.find((a: { address: string }) => a.address === 'ann@route.test').id;
    const annBefore = (await sys.storedMessages(annId)).length;
    const external = await sys.pop3Account(owner, user);
    await sys.waitForCycles(external.id, 1);
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
    assert.equal((await sys.storedMessages(annId)).length, annBefore);
  });
});
