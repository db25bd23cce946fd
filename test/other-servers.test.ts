// test-file-timeout-ms: 600000
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';
import { watchForNewMail } from '../mail/imap-watch';
import type { DovecotUser } from '../testkit/dovecot';
import { buildMessage } from '../testkit/messages';
import { testNetworkPolicy } from '../testkit/network-policy';
import {
  addOtherUser,
  appendToOther,
  folderOnOther,
  otherServerCorpus,
  pop3OnOther,
  startOtherServer,
  stopOtherServer,
  withOtherImap,
  type OtherServer,
} from './support/other-servers';
import { useTestSystem } from '../testkit/system';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const CYCLE_MS = 300_000;

/** Each distinct message and how often: two lists hold the same bytes, whatever their order. */
const multiset = (messages: readonly Buffer[]): Map<string, number> => {
  const out = new Map<string, number>();
  for (const m of messages) out.set(sha(m), (out.get(sha(m)) ?? 0) + 1);
  return out;
};

/**
 * The same corpus end to end against Cyrus IMAP 3.6 and Courier (Debian's packages, unpacked, not
 * installed; scripts/cyrus.sh and scripts/courier.sh): what mailpull stores is byte for byte what
 * was put in. Both name folders under "INBOX." (personal namespace); Courier announces no
 * UIDNEXT and, to a POP3 client that does not send UTF8, sends a notice instead of a message with
 * 8-bit headers.
 */
for (const kind of ['cyrus', 'courier'] as const) {
  describe(`${kind}: the corpus over POP3 and IMAP`, () => {
    const sys = useTestSystem();
    let server: OtherServer;
    before(async () => {
      server = await startOtherServer(kind);
    });
    after(async () => {
      await stopOtherServer(server);
    });

    const account = (protocol: 'pop3' | 'imap', owner: { id: string }, user: DovecotUser, extra: Record<string, unknown> = {}) =>
      sys.ok('POST', '/api/external-accounts', {
        ownerAccountId: owner.id,
        name: `${kind} ${protocol} ${user.name}`,
        protocol,
        host: '127.0.0.1',
        port: protocol === 'pop3' ? server.pop3Port : server.imapPort,
        tlsMode: 'detect',
        tlsCa: server.ca,
        username: user.name,
        password: user.password,
        ...extra,
      });

    test('POP3: 26 messages stored byte-identical (8-bit headers too), then deleted from the server', async () => {
      const user = await addOtherUser(server, 'pop');
      const corpus = otherServerCorpus();
      await appendToOther(
        server,
        user,
        'INBOX',
        corpus.map((raw) => ({ raw })),
      );
      const owner = await sys.localAccount(`pop3@${kind}.test`);
      const ext = await account('pop3', owner, user, { deletePolicy: 'immediately' });
      const first = await sys.waitForCycles(ext.id, 1, CYCLE_MS);
      assert.equal(first.lastError, null);
      assert.equal(first.tls, 'starttls');
      assert.equal(first.lastRun?.delivered, 26);
      assert.equal(first.lastRun?.removed, 26);
      const stored = await sys.storedMessages(owner.id);
      assert.deepEqual(multiset(stored), multiset(corpus), 'every stored message is byte for byte one that was put in');
      assert.ok(
        stored.some((m) => m.includes(Buffer.from('Grüße, café ☕', 'utf8'))),
        'the message with 8-bit headers is stored as it is',
      );
      assert.ok(!stored.some((m) => m.includes('Cannot display Unicode content')), 'no notice instead of a message');
      assert.deepEqual(await folderOnOther(server, user, 'INBOX'), [], 'all deleted once stored');
    });

    test('POP3 without UTF8: Courier sends a notice of another size than LIST said; with UTF8 the message', async () => {
      const user = await addOtherUser(server, 'utf');
      const utf8Headers = otherServerCorpus().find((m) => m.includes('utf8-headers@remote.example')) ?? Buffer.alloc(0);
      await appendToOther(server, user, 'INBOX', [{ raw: utf8Headers }]);
      const [plain] = await pop3OnOther(server, user, false);
      const [utf8] = await pop3OnOther(server, user, true);
      assert.equal(plain.listed, utf8Headers.length);
      assert.ok(utf8.raw.equals(utf8Headers));
      if (kind === 'courier') {
        assert.notEqual(plain.raw.length, plain.listed, 'the notice is not the size LIST gave');
        assert.ok(plain.raw.includes('Cannot display Unicode content'));
      } else assert.ok(plain.raw.equals(utf8Headers), 'Cyrus sends the message either way');
    });

    test('IMAP: INBOX, INBOX.Work and INBOX.Work.2025 mirrored as INBOX, Work and Work/2025, byte-identical; then only what is new', async () => {
      const user = await addOtherUser(server, 'imap');
      const folders = {
        INBOX: otherServerCorpus(),
        'INBOX.Work': [buildMessage({ subject: 'work 1' }), buildMessage({ subject: 'work 2' }), buildMessage({ subject: 'work 3' })],
        'INBOX.Work.2025': [buildMessage({ subject: '2025 a' }), buildMessage({ subject: '2025 b' })],
      };
      for (const [folder, messages] of Object.entries(folders)) {
        await appendToOther(
          server,
          user,
          folder,
          messages.map((raw) => ({ raw })),
        );
      }
      const owner = await sys.localAccount(`imap@${kind}.test`);
      const ext = await account('imap', owner, user, { folders: { mode: 'all', exclude: [] }, mirrorFolders: true });
      const first = await sys.waitForCycles(ext.id, 1, CYCLE_MS);
      assert.equal(first.lastError, null, 'a server without UIDNEXT is collected too');
      assert.equal(first.tls, 'starttls');
      assert.equal(first.lastRun?.delivered, 31);

      const copies = await sys.storedCopies(owner.id);
      const localName = { INBOX: 'INBOX', 'INBOX.Work': 'Work', 'INBOX.Work.2025': 'Work/2025' } as const;
      for (const [folder, messages] of Object.entries(folders) as [keyof typeof localName, Buffer[]][]) {
        const here = copies.filter((c) => c.folder === localName[folder]).map((c) => c.raw);
        assert.equal(here.length, messages.length, `${folder} → ${localName[folder]}`);
        here.forEach((raw, i) => assert.ok(raw.equals(messages[i]), `${folder} #${i} is byte-identical`));
      }

      // The next cycle asks only for UIDs above those seen, UIDNEXT announced or not.
      const late = buildMessage({ subject: 'late arrival' });
      await appendToOther(server, user, 'INBOX.Work', [{ raw: late }]);
      await sys.ok('POST', `/api/external-accounts/${ext.id}/connect-now`, undefined, 202);
      const second = await sys.waitForCycles(ext.id, 2, CYCLE_MS);
      assert.equal(second.lastError, null);
      assert.equal(second.lastRun?.onServer, 1, 'only the new UID was listed');
      assert.equal(second.lastRun?.delivered, 1);
      const now = await sys.storedCopies(owner.id);
      assert.equal(now.length, 32);
      assert.ok(now[31].raw.equals(late));
      assert.equal(now[31].folder, 'Work');
    });

    test('IDLE: mail that arrived after the last listing counts as new at once, UIDNEXT announced or not', async () => {
      const user = await addOtherUser(server, 'idle');
      await appendToOther(server, user, 'INBOX', [
        { raw: buildMessage({ subject: 'seen' }) },
        { raw: buildMessage({ subject: 'unseen' }) },
      ]);
      const { uidvalidity, firstUid } = await withOtherImap(server, user, async (client) => {
        const box = await client.mailboxOpen('INBOX', { readOnly: true });
        const rows = await client.fetchAll('1:*', { uid: true });
        return { uidvalidity: String(box.uidValidity), firstUid: rows[0].uid };
      });
      const endpoint: MailboxEndpoint = {
        protocol: 'imap',
        host: '127.0.0.1',
        port: server.imapPort,
        tlsMode: 'detect',
        tlsCa: server.ca,
        allowInvalidCertificates: false,
        authMethod: 'password',
        username: user.name,
        secret: user.password,
        folders: { mode: 'inbox' },
        maxMessageBytes: 1024 * 1024,
      };
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 30_000);
      try {
        const outcome = await watchForNewMail(endpoint, [{ folder: 'INBOX', uidvalidity, highestUid: firstUid, pendingUids: [] }], {
          timeoutMs: 30_000,
          networkPolicy: testNetworkPolicy(),
          maxIdleMs: 60_000,
          maxFolders: 5,
          signal: abort.signal,
        });
        assert.equal(outcome, 'new-mail');
      } finally {
        clearTimeout(timer);
      }
    });
  });
}
