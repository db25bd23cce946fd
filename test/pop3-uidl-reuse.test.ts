import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { scriptedPop3, type ScriptedPop3, type ScriptedPop3Options } from './support/scripted-pop3';
import { useTestSystem } from '../testkit/system';

/** A message whose UIDL the scripted server takes from its X-Uidl header; same-length tags, same sizes. */
const message = (uidl: string, tag: string): Buffer =>
  Buffer.from(`Subject: ${tag}\r\nMessage-ID: <${tag}@remote.example>\r\nX-Uidl: ${uidl}\r\n\r\nbody of ${tag}\r\n`);
const uidlOf = (m: Buffer): string => /X-Uidl: (\S+)/.exec(m.toString('latin1'))?.[1] ?? 'none';

describe('POP3 UIDLs reused over time, shared, or missing from one listing (scripted: Dovecot never does it)', () => {
  const sys = useTestSystem();
  const servers: ScriptedPop3[] = [];
  after(() => servers.forEach((s) => s.close()));

  async function setUp(name: string, deletePolicy: string, extra: Partial<ScriptedPop3Options> = {}) {
    const server = await scriptedPop3({ user: name, password: 'server', uidl: true, top: true, uidlOf, ...extra });
    servers.push(server);
    const owner = await sys.localAccount(`${name}@reuse.test`);
    const create = async () =>
      sys.ok('POST', '/api/external-accounts', {
        ownerAccountId: owner.id,
        name,
        host: '127.0.0.1',
        port: server.port,
        username: name,
        password: 'server',
        deletePolicy,
      });
    return { server, owner, create };
  }
  const connectNow = (id: string) => sys.ok('POST', `/api/external-accounts/${id}/connect-now`, undefined, 202);

  test('a UIDL reused for a new message after the first was deleted: the new one is delivered, then deleted', async () => {
    const { server, owner, create } = await setUp('reused', 'immediately');
    const first = message('u1', 'first-1');
    const second = message('u1', 'second2');
    assert.equal(first.length, second.length, 'same UIDL, same size');
    server.mailbox.push(first);
    const external = await create();
    const cycle1 = await sys.waitForCycles(external.id, 1);
    assert.equal(cycle1.lastRun?.delivered, 1);
    assert.equal(cycle1.lastRun?.removed, 1);
    assert.equal(server.mailbox.length, 0);

    server.mailbox.push(second);
    await connectNow(external.id);
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.delivered, 1, 'the new message under the old UIDL');
    assert.equal(cycle2.lastRun?.removed, 1, 'deleted once delivered');
    assert.equal(server.mailbox.length, 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [first, second]);
  });

  test('a server without TOP: a delivered message is checked by its whole content, then deleted', async () => {
    const { server, owner, create } = await setUp('no-top', 'immediately', { top: false });
    const first = message('u7', 'no-top-1');
    server.mailbox.push(first);
    const external = await create();
    const cycle = await sys.waitForCycles(external.id, 1);
    assert.equal(cycle.lastError, null);
    assert.equal(cycle.lastRun?.delivered, 1);
    assert.equal(cycle.lastRun?.removed, 1);
    assert.equal(server.mailbox.length, 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [first]);
  });

  test('a kept message replaced under its UIDL by one of another size: delivered, and only then deleted', async () => {
    const { server, owner, create } = await setUp('replaced', 'never');
    const first = message('u2', 'first');
    const second = message('u2', 'second, longer');
    server.mailbox.push(first);
    const external = await create();
    assert.equal((await sys.waitForCycles(external.id, 1)).lastRun?.delivered, 1);

    server.mailbox.splice(0, 1, second);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { deletePolicy: 'immediately' });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.delivered, 1);
    assert.equal(cycle2.lastRun?.removed, 1);
    assert.equal(server.mailbox.length, 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [first, second]);
  });

  test('a kept message replaced under its UIDL by one of the same size is never deleted in its place, and is collected next', async () => {
    const { server, owner, create } = await setUp('same-size', 'never');
    const first = message('u4', 'first-1');
    const second = message('u4', 'second2');
    assert.equal(first.length, second.length);
    server.mailbox.push(first);
    const external = await create();
    assert.equal((await sys.waitForCycles(external.id, 1)).lastRun?.delivered, 1);

    server.mailbox.splice(0, 1, second);
    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { deletePolicy: 'immediately' });
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.removed, 0, 'its header section is not the one delivered');
    assert.deepEqual(server.mailbox, [second]);

    await connectNow(external.id);
    const cycle3 = await sys.waitForCycles(external.id, 3);
    assert.equal(cycle3.lastRun?.delivered, 1);
    assert.equal(cycle3.lastRun?.removed, 1);
    assert.equal(server.mailbox.length, 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [first, second]);
  });

  test('two messages sharing a UIDL: the one delivered before is not delivered again, each is deleted once delivered', async () => {
    const { server, owner, create } = await setUp('shared', 'never');
    const first = message('dup', 'first');
    const second = message('dup', 'second');
    server.mailbox.push(first);
    const external = await create();
    assert.equal((await sys.waitForCycles(external.id, 1)).lastRun?.delivered, 1);

    server.mailbox.push(second);
    await connectNow(external.id);
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.delivered, 1, 'only the new one');
    assert.equal(cycle2.lastRun?.recognized, 1, 'the one delivered before, under its new key');
    assert.deepEqual(await sys.storedMessages(owner.id), [first, second]);

    await sys.ok('PATCH', `/api/external-accounts/${external.id}`, { deletePolicy: 'immediately' });
    const cycle3 = await sys.waitForCycles(external.id, 3);
    assert.equal(cycle3.lastRun?.delivered, 0);
    assert.equal(cycle3.lastRun?.removed, 2);
    assert.equal(server.mailbox.length, 0);
    assert.deepEqual(await sys.storedMessages(owner.id), [first, second], 'each exactly once');
  });

  test('a message missing from one session (the download after its listing) is collected by the next cycle', async () => {
    // the second login, the download of the first cycle, sees an empty mailbox
    const { server, owner, create } = await setUp('omitted', 'never', {
      viewAt: (mailbox, login) => (login === 2 ? [] : [...mailbox]),
    });
    const only = message('u3', 'only');
    server.mailbox.push(only);
    const external = await create();
    const cycle1 = await sys.waitForCycles(external.id, 1);
    assert.equal(cycle1.lastRun?.delivered, 0, 'the download found it gone');
    assert.equal(server.logins, 2);

    await connectNow(external.id);
    const cycle2 = await sys.waitForCycles(external.id, 2);
    assert.equal(cycle2.lastError, null);
    assert.equal(cycle2.lastRun?.delivered, 1, 'listed again: no longer taken for gone');
    assert.deepEqual(await sys.storedMessages(owner.id), [only]);
  });
});
