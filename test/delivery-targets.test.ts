import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { domainWithTarget, deliveredCounts } from './support/delivered';
import { addUser, countOnServer, lmtpSocketPath, masterUser, readByPop3, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv } from '../testkit/env';
import { appendMessages, readFolder } from './support/imap';
import { mixedCorpus } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';

describe('delivery into Dovecot: LMTP over TCP and a unix socket, IMAP APPEND', () => {
  const sys = useTestSystem();

  /** 50 mixed messages collected by POP3 from one Dovecot user and delivered to another through `target`. */
  async function collectThrough(
    domain: string,
    target: Record<string, unknown>,
  ): Promise<{ source: DovecotUser; destination: DovecotUser; corpus: Buffer[]; externalId: string }> {
    const source = await addUser('src');
    const destination = await addUser('dst');
    const corpus = mixedCorpus();
    await saveMessages(source, corpus);
    await domainWithTarget(sys, domain, target);
    const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `${destination.name}@${domain}` });
    const external = await sys.pop3Account(owner, source, { deletePolicy: 'immediately' });
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastError, null);
    assert.equal(status.lastRun?.delivered, 50);
    assert.equal(status.lastRun?.held, 0);
    assert.deepEqual(status.delivery, { backlog: 0, quarantined: 0, nextAttemptAt: null, lastError: null });
    assert.equal((await sys.storedMessages(owner.id)).length, 0, 'nothing went to the built-in store');
    return { source, destination, corpus, externalId: external.id };
  }

  for (const via of ['TCP', 'unix socket'] as const) {
    test(`LMTP over ${via}: 50 messages land in the recipient's Dovecot INBOX once each, identical apart from trace headers`, async () => {
      const address = via === 'TCP' ? { host: '127.0.0.1', port: testEnv.lmtpPort() } : { socketPath: lmtpSocketPath() };
      const domain = via === 'TCP' ? 'lmtp-tcp.test' : 'lmtp-socket.test';
      const { source, destination, corpus } = await collectThrough(domain, { kind: 'lmtp', tlsMode: 'disabled', ...address });
      const delivered = await readByPop3(destination);
      assert.equal(delivered.length, 50);
      const counts = deliveredCounts(delivered, corpus);
      counts.forEach((n, i) => assert.equal(n, 1, `message ${i} arrived ${n} times (or altered)`));
      assert.ok(
        delivered.every((m) => m.toString('latin1').startsWith('Return-Path: ')),
        'Dovecot recorded the envelope sender',
      );
      assert.ok(
        delivered.some((m) => m.toString('latin1').startsWith('Return-Path: <sender@remote.example>')),
        'MAIL FROM is the From address when there is no Return-Path',
      );
      assert.equal(await countOnServer(source), 0, 'removed from the remote after delivery');
    });
  }

  test('IMAP APPEND with a master login: folders mirrored, bytes, INTERNALDATE and flags kept', async () => {
    const source = await addUser('src');
    const destination = await addUser('dst');
    const corpus = mixedCorpus();
    const flagsOf = (i: number): string[] => (i % 3 === 0 ? ['\\Seen'] : i % 3 === 1 ? ['$Label1', '\\Flagged'] : []);
    const dateOf = (i: number): Date => new Date(Date.UTC(2024, 0, 1 + i, 8, 30, 15));
    const folderOf = (i: number): string => (i < 30 ? 'INBOX' : 'Archive');
    for (const folder of ['INBOX', 'Archive']) {
      await appendMessages(
        source,
        folder,
        corpus.map((raw, i) => ({ raw, flags: flagsOf(i), date: dateOf(i), i })).filter(({ i }) => folderOf(i) === folder),
      );
    }
    // what the source serves over IMAP (which shows a NUL byte as 0x80): what APPEND must reproduce
    const served = { INBOX: await readFolder(source, 'INBOX'), Archive: await readFolder(source, 'Archive') };
    const master = await masterUser();
    await domainWithTarget(sys, 'append.test', {
      kind: 'imap',
      host: '127.0.0.1',
      port: testEnv.imapPort(),
      tlsMode: 'disabled',
      imapLogin: 'master',
      username: master.name,
      password: master.password,
    });
    const owner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `${destination.name}@append.test` });
    const external = await sys.imapAccount(owner, source, { folders: { mode: 'all' }, mirrorFolders: true });
    const status = await sys.waitForCycles(external.id, 1);
    assert.equal(status.lastError, null);
    assert.equal(status.lastRun?.delivered, 50);
    assert.equal(status.delivery.backlog, 0);

    const withoutRecent = (flags: string[]): string[] => flags.filter((f) => f !== '\\Recent');
    for (const folder of ['INBOX', 'Archive'] as const) {
      const delivered = await readFolder(destination, folder);
      assert.equal(delivered.length, corpus.filter((_, i) => folderOf(i) === folder).length, `${folder} holds every message once`);
      for (const original of served[folder]) {
        const copies = delivered.filter((m) => m.raw.equals(original.raw));
        assert.equal(copies.length, 1, `UID ${original.uid} of ${folder} is there exactly once, byte for byte`);
        assert.deepEqual(withoutRecent(copies[0].flags), withoutRecent(original.flags), `flags of UID ${original.uid}`);
        assert.equal(copies[0].internalDate.toISOString(), original.internalDate.toISOString(), `INTERNALDATE of UID ${original.uid}`);
      }
    }
    assert.ok(
      served.Archive.some((m) => m.internalDate.getTime() === dateOf(30).getTime()),
      'the dates are the ones appended',
    );
    const history = await sys.historyText(external.id);
    assert.ok(!history.includes(master.password), 'the master password is not in the workflow history');
    assert.ok(!sys.worker?.output().includes(master.password), 'nor in the worker log');
    const targets = await sys.ok<{ deliveryTargets: Record<string, unknown>[] }>('GET', '/api/delivery-targets');
    assert.ok(!JSON.stringify(targets).includes(master.password), 'nor in the API');
    assert.ok(targets.deliveryTargets.some((t) => t.passwordSet === true));
  });
});
