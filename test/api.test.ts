import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { workflowIdFor } from '../workflows/definitions';
import { addUser } from '../testkit/dovecot';
import { waitFor } from '../testkit/env';
import { useTestSystem } from '../testkit/system';

describe('HTTP API', () => {
  const sys = useTestSystem();
  let owner: { id: string };
  const valid = () => ({ ownerAccountId: owner.id, name: 'remote', host: 'pop.remote.example', username: 'u', password: 'p' });

  before(async () => {
    owner = await sys.localAccount('owner@api.test');
  });

  test('/health answers', async () => {
    assert.deepEqual((await sys.api('GET', '/health')).body, { ok: true });
  });

  const badInputs: [string, string, unknown, string][] = [
    ['POST', '/api/domains', { name: 'no_dots' }, 'name'],
    ['POST', '/api/domains', { name: 'ok.test', extra: 1 }, 'body'],
    ['POST', '/api/domains', '{not json', 'body'],
    ['PATCH', '/api/domains/not-a-uuid', { enabled: true }, 'id'],
    ['POST', '/api/accounts', { address: 'no-at-sign' }, 'address'],
    ['POST', '/api/accounts', { address: 'x@unknown-domain.test' }, 'address'],
    ['GET', '/api/accounts?domainId=nope', undefined, 'domainId'],
  ];
  for (const [method, path, body, field] of badInputs) {
    test(`${method} ${path} with ${typeof body === 'string' ? body : JSON.stringify(body)} → 400 naming "${field}"`, async () => {
      const res = await sys.api(method, path, body);
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'invalid_request');
      assert.equal(res.body.field, field);
      assert.match(res.body.message, new RegExp(`^${field}: `));
    });
  }

  const badExternal: [string, Record<string, unknown>, string][] = [
    ['missing host', { host: undefined }, 'host'],
    ['host with spaces', { host: 'pop remote' }, 'host'],
    ['port 0', { port: 0 }, 'port'],
    ['port 70000', { port: 70000 }, 'port'],
    ['unknown TLS mode', { tlsMode: 'sometimes' }, 'tlsMode'],
    ['password with CRLF', { password: 'x\r\nDELE 1' }, 'password'],
    ['username with LF', { username: 'u\nQUIT' }, 'username'],
    ['interval 0', { intervalMinutes: 0 }, 'intervalMinutes'],
    ['fractional interval', { intervalMinutes: 1.5 }, 'intervalMinutes'],
    ['unknown delete policy', { deletePolicy: 'sometimes' }, 'deletePolicy'],
    ['negative afterDays', { deletePolicy: { afterDays: -1 } }, 'deletePolicy.afterDays'],
    ['bad header name', { mimeRecipients: { enabled: true, headers: ['To:'] } }, 'mimeRecipients.headers.0'],
    ['owner not a uuid', { ownerAccountId: 'abc' }, 'ownerAccountId'],
    ['owner unknown', { ownerAccountId: '00000000-0000-4000-8000-000000000000' }, 'ownerAccountId'],
    ['unknown protocol', { protocol: 'smtp' }, 'protocol'],
    ['unknown folder mode', { protocol: 'imap', folders: { mode: 'some' } }, 'folders.mode'],
    ['empty folder list', { protocol: 'imap', folders: { mode: 'list', names: [] } }, 'folders.names'],
    ['folder name with CRLF', { protocol: 'imap', folders: { mode: 'list', names: ['a\r\nx'] } }, 'folders.names.0'],
    ['folders for POP3', { folders: { mode: 'all', exclude: [] } }, 'folders'],
    ['push for POP3', { push: true }, 'push'],
    ['mirrorFolders for POP3', { mirrorFolders: true }, 'mirrorFolders'],
    ['APOP for IMAP', { protocol: 'imap', authMethod: 'apop' }, 'authMethod'],
    ['receivedHeader for IMAP', { protocol: 'imap', receiveTime: 'receivedHeader' }, 'receiveTime'],
    ['unknown auth method', { authMethod: 'magic' }, 'authMethod'],
    ['allowInvalidCertificates not a boolean', { allowInvalidCertificates: 'yes' }, 'allowInvalidCertificates'],
    ['forwardToAccountId not a uuid', { forwardToAccountId: 'abc' }, 'forwardToAccountId'],
    ['forwardToAccountId unknown', { forwardToAccountId: '00000000-0000-4000-8000-000000000000' }, 'forwardToAccountId'],
    ['unknown field', { colour: 'blue' }, 'body'],
  ];
  for (const [what, change, field] of badExternal) {
    test(`external account with ${what} → 400 naming "${field}", nothing created`, async () => {
      const res = await sys.api('POST', '/api/external-accounts', { ...valid(), ...change });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.field, field);
      assert.equal((await sys.ok('GET', '/api/external-accounts')).externalAccounts.length, 0);
    });
  }

  test('duplicates are 409, unknown ids 404, deleting a domain with accounts 409', async () => {
    assert.equal((await sys.api('POST', '/api/domains', { name: 'API.test' })).status, 409);
    assert.equal((await sys.api('POST', '/api/accounts', { address: 'OWNER@api.test' })).status, 409);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const path of [
      `/api/domains/${missing}`,
      `/api/accounts/${missing}`,
      `/api/external-accounts/${missing}`,
      `/api/external-accounts/${missing}/status`,
    ]) {
      const res = await sys.api('GET', path);
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error, 'not_found');
    }
    assert.equal((await sys.api('POST', `/api/external-accounts/${missing}/connect-now`)).status, 404);
    assert.equal((await sys.api('GET', '/no/such/route')).status, 404);
    const domainId = (await sys.ok('GET', `/api/accounts/${owner.id}`)).domainId;
    assert.equal((await sys.api('DELETE', `/api/domains/${domainId}`)).status, 409);
  });

  test('an IMAP account: ports follow protocol and TLS mode, folders default to INBOX, reset-index answers', async () => {
    const imap = await sys.ok('POST', '/api/external-accounts', { ...valid(), protocol: 'imap', enabled: false });
    assert.equal(imap.port, 143);
    assert.deepEqual(imap.folders, { mode: 'inbox' });
    assert.equal(imap.push, false);
    assert.equal(imap.mirrorFolders, false);
    const direct = await sys.ok('PATCH', `/api/external-accounts/${imap.id}`, {
      tlsMode: 'direct',
      folders: { mode: 'all' },
      password: 'p',
    });
    assert.equal(direct.port, 993);
    assert.deepEqual(direct.folders, { mode: 'all', exclude: [] });
    assert.deepEqual(await sys.ok('POST', `/api/external-accounts/${imap.id}/reset-index`, {}, 200), { forgotten: 0, force: false });
    await sys.ok('DELETE', `/api/external-accounts/${imap.id}`, undefined, 204);
  });

  test('an external account: defaults, no password in any answer, lifecycle of its workflow', async () => {
    const user = await addUser();
    const created = await sys.ok('POST', '/api/external-accounts', {
      ...valid(),
      host: '127.0.0.1',
      username: user.name,
      password: 'secret-never-shown',
      enabled: false,
    });
    assert.equal(created.port, 110);
    assert.equal(created.tlsMode, 'detect');
    assert.equal(created.intervalMinutes, 30);
    assert.equal(created.deletePolicy, 'never');
    assert.deepEqual(created.mimeRecipients, {
      enabled: false,
      headers: ['To', 'CC', 'X-RCPT-TO', 'X-Envelope-To', 'Received'],
      allDomains: false,
    });
    assert.equal(created.passwordSet, true);
    assert.equal(created.protocol, 'pop3');
    assert.equal(created.authMethod, 'password');
    assert.equal(created.allowInvalidCertificates, false);
    assert.equal(created.receiveTime, 'download');
    assert.equal(created.forwardToAccountId, null);
    assert.equal('password' in created, false);

    const handle = sys.client.workflow.getHandle(workflowIdFor(created.id));
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'creating starts the workflow');

    const patched = await sys.ok('PATCH', `/api/external-accounts/${created.id}`, {
      deletePolicy: { afterDays: 7 },
      tlsMode: 'direct',
      intervalMinutes: 5,
      // another TLS mode and port: the password goes with the change (a secret goes only where it was given)
      password: 'secret-never-shown',
    });
    assert.equal(patched.port, 995, 'the default port follows the TLS mode');
    assert.deepEqual(patched.deletePolicy, { afterDays: 7 });
    assert.equal(patched.intervalMinutes, 5);
    assert.equal(patched.username, user.name, 'unchanged fields kept');
    const history = await handle.fetchHistory();
    assert.ok(
      history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'configChanged'),
      'changing it signals the workflow',
    );

    for (const res of [
      await sys.api('GET', `/api/external-accounts/${created.id}`),
      await sys.api('GET', '/api/external-accounts'),
      await sys.api('GET', `/api/external-accounts?ownerAccountId=${owner.id}`),
      await sys.api('GET', `/api/external-accounts/${created.id}/status`),
    ]) {
      assert.equal(res.status, 200);
      assert.ok(!res.raw.toString().includes('secret-never-shown'));
    }
    const text = await sys.historyText(created.id);
    assert.ok(text.includes(created.id), 'the history holds the account id (the search works)');
    assert.ok(!text.includes('secret-never-shown'), 'no secret in the workflow history');

    assert.equal((await sys.api('DELETE', `/api/external-accounts/${created.id}`)).status, 204);
    await waitFor('the workflow to end', async () => (await handle.describe()).status.name === 'COMPLETED');
    assert.equal((await sys.api('GET', `/api/external-accounts/${created.id}`)).status, 404);
  });

  test('messages of a local account: paging and 404s', async () => {
    const list = await sys.ok('GET', `/api/accounts/${owner.id}/messages?limit=5&offset=0`);
    assert.deepEqual(list, { total: 0, messages: [], limit: 5, offset: 0 });
    assert.equal((await sys.api('GET', `/api/accounts/${owner.id}/messages?limit=0`)).body.field, 'limit');
    assert.equal((await sys.api('GET', `/api/accounts/${owner.id}/messages/123/raw`)).status, 404);
    assert.equal((await sys.api('GET', `/api/accounts/${owner.id}/messages/abc/raw`)).body.field, 'messageId');
  });
});
