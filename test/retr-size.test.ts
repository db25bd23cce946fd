import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { buildMessage } from '../testkit/messages';
import { scriptedPop3, type ScriptedPop3 } from './support/scripted-pop3';
import { useTestSystem } from '../testkit/system';

const CRLF = '\r\n';
const has8bitHeaders = (m: Buffer): boolean => m.subarray(0, m.indexOf(`${CRLF}${CRLF}`)).some((b) => b > 0x7f);

/** What Courier's POP3 sends instead of a message with 8-bit headers to a client that did not send UTF8. */
const notice = (original: Buffer): Buffer =>
  Buffer.concat([
    Buffer.from(
      [
        'From: Mail Delivery Subsystem <postmaster>',
        'Subject: Cannot display Unicode content',
        'Mime-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="=_b"',
        '',
        '--=_b',
        'Content-Type: text/plain',
        '',
        'This E-mail message was determined to be Unicode-formatted',
        '',
        '--=_b',
        'Content-Type: message/global',
        '',
        '',
      ].join(CRLF),
    ),
    original,
    Buffer.from(`${CRLF}--=_b--${CRLF}`),
  ]);

const utf8Message = (): Buffer =>
  Buffer.concat([Buffer.from('From: a@remote.example\r\nSubject: '), Buffer.from('Grüße ☕', 'utf8'), Buffer.from('\r\n\r\nbody\r\n')]);

/**
 * Scripted: Courier serves the notice only to clients without UTF8, which mailpull now sends; a
 * server that sends another size than LIST said without offering UTF8 is the fault left.
 */
describe('POP3: RETR of another size than LIST gave', () => {
  const sys = useTestSystem();
  const servers: ScriptedPop3[] = [];
  after(() => servers.forEach((s) => s.close()));

  const collect = async (options: { utf8: boolean }, address: string) => {
    const verbs: string[] = [];
    const server = await scriptedPop3({
      user: 'u',
      password: 'server',
      uidl: true,
      top: true,
      uidlOf: (m) => createHash('md5').update(m).digest('hex'),
      retrAs: (m, session) => (!session.utf8 && has8bitHeaders(m) ? notice(m) : m),
      utf8: options.utf8,
      verbs,
    });
    servers.push(server);
    const plain = buildMessage({ subject: 'plain' });
    const utf8 = utf8Message();
    server.mailbox.push(plain, utf8);
    const owner = await sys.localAccount(address);
    const ext = await sys.ok('POST', '/api/external-accounts', {
      ownerAccountId: owner.id,
      name: address,
      host: '127.0.0.1',
      port: server.port,
      username: 'u',
      password: 'server',
      deletePolicy: 'immediately',
    });
    const first = await sys.waitForCycles(ext.id, 1);
    return { server, verbs, plain, utf8, owner, ext, first };
  };

  test('the notice is stored, but the message stays on the server, cycle after cycle', async () => {
    const { server, plain, utf8, owner, ext, first } = await collect({ utf8: false }, 'owner@notice.test');
    assert.equal(first.lastError, null);
    assert.equal(first.lastRun?.delivered, 2);
    assert.equal(first.lastRun?.removed, 1, 'only the message of the size LIST gave');
    assert.deepEqual(server.deles, [1]);
    assert.deepEqual(server.mailbox, [utf8], 'the original is still on the server');
    const stored = await sys.storedMessages(owner.id);
    assert.ok(stored[0].equals(plain));
    assert.ok(stored[1].equals(notice(utf8)), 'what arrived is kept');
    assert.match(sys.worker?.output() ?? '', /RETR returned \d+ bytes where LIST said \d+/);

    await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
    const second = await sys.waitForCycles(ext.id, 2);
    assert.equal(second.lastError, null);
    assert.equal(second.lastRun?.delivered, 0);
    assert.equal(second.lastRun?.removed, 0);
    assert.deepEqual(server.mailbox, [utf8], 'still on the server');
    assert.equal((await sys.storedMessages(owner.id)).length, 2);
  });

  test('UTF8 is sent where offered, before login: the original arrives byte-identical and is deleted', async () => {
    const { server, verbs, plain, utf8, owner, first } = await collect({ utf8: true }, 'owner@utf8.test');
    assert.equal(first.lastError, null);
    assert.equal(first.lastRun?.delivered, 2);
    assert.equal(first.lastRun?.removed, 2);
    assert.deepEqual(server.mailbox, []);
    assert.ok(verbs.indexOf('UTF8') !== -1 && verbs.indexOf('UTF8') < verbs.indexOf('USER'), 'UTF8 before USER');
    const stored = await sys.storedMessages(owner.id);
    assert.ok(stored[0].equals(plain));
    assert.ok(stored[1].equals(utf8));
  });
});
