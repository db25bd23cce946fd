import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { contentKeys } from '../core/content-key';
import { buildMessage } from '../testkit/messages';
import { scriptedPop3, type ScriptedPop3 } from './support/scripted-pop3';
import { useTestSystem } from '../testkit/system';

describe('content keys', () => {
  test('differ by headers and size, and tell identical messages apart by order', () => {
    const a = { headers: Buffer.from('Subject: a\r\n\r\n'), size: 10 };
    const b = { headers: Buffer.from('Subject: b\r\n\r\n'), size: 10 };
    const keys = contentKeys([a, b, a, { ...a, size: 11 }]);
    assert.equal(new Set(keys).size, 4);
    assert.equal(keys[2], `${keys[0]}#2`);
    assert.deepEqual(contentKeys([a, b]), keys.slice(0, 2), 'stable across listings');
  });
});

describe('a POP3 server without UIDL (scripted: Dovecot always has UIDL)', () => {
  const sys = useTestSystem();
  let server: ScriptedPop3;
  before(async () => {
    server = await scriptedPop3({ user: 'old', password: 'server', uidl: false, top: true });
  });
  after(() => {
    server.close();
  });

  const accountOn = async (pop3: ScriptedPop3, user: string, address: string) =>
    sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: (await sys.localAccount(address)).id,
      name: user,
      host: '127.0.0.1',
      port: pop3.port,
      username: user,
      password: 'server',
    });

  test('is collected by content key: no mass re-download, deletes only what was delivered', async () => {
    const first = [buildMessage({ subject: 'one' }), buildMessage({ subject: 'two' }), buildMessage({ subject: 'three' })];
    const copy = Buffer.from(first[0]);
    server.mailbox.push(...first, copy);
    const external = await accountOn(server, 'old', 'owner@nouidl.test');
    const cycle1 = await sys.waitForCycles(external.id, 1);
    assert.equal(cycle1.lastError, null);
    assert.equal(cycle1.tls, 'plaintext', 'detect found no STLS and says so');
    assert.equal(cycle1.lastRun?.delivered, 4, 'an identical copy is a message of its own');

    const fourth = buildMessage({ subject: 'four' });
    server.mailbox.push(fourth);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { deletePolicy: 'immediately' });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastRun?.delivered, 1, 'only the new message');
    assert.equal(cycle2.lastRun?.removed, 5);
    assert.deepEqual(server.mailbox, []);
    const stored = await sys.storedMessages(external.ownerAccountId);
    assert.deepEqual(stored, [...first, copy, fourth]);
  });

  test('a server with neither UIDL nor TOP is a clear configuration error', async () => {
    const bare = await scriptedPop3({ user: 'bare', password: 'server', uidl: false, top: false });
    bare.mailbox.push(buildMessage());
    const external = await accountOn(bare, 'bare', 'bare@nouidl.test');
    const status = await sys.waitForCycles(external.id, 1);
    bare.close();
    assert.equal(status.lastError?.kind, 'config');
    assert.match(status.lastError?.message ?? '', /neither UIDL nor TOP/);
    assert.equal(bare.mailbox.length, 1, 'nothing deleted');
  });
});
