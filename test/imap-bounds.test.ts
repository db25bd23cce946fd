import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { ServerMessage } from '../core/download-plan';
import { createImapSource } from '../mail/imap-source';
import type { Fetched, MailSession } from '../mail/source';
import { addUser, mailboxCount, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { testEnv } from '../testkit/env';
import { appendMessages } from './support/imap';
import { buildMessage, textOfSize } from '../testkit/messages';
import { loopbackPolicy } from '../testkit/network-policy';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';

const run = promisify(execFile);

const endpoint = (user: DovecotUser, maxMessageBytes: number): MailboxEndpoint => ({
  protocol: 'imap',
  host: '127.0.0.1',
  port: testEnv.imapPort(),
  tlsMode: 'disabled',
  tlsCa: null,
  allowInvalidCertificates: false,
  authMethod: 'password',
  folders: { mode: 'inbox' },
  username: user.name,
  secret: user.password,
  maxMessageBytes,
});

async function fetchAll(mail: MailSession, messages: readonly ServerMessage[]): Promise<Fetched[]> {
  const out: Fetched[] = [];
  for await (const f of mail.fetch(messages)) out.push(f);
  return out;
}

describe('IMAP against Dovecot: UID sets and size bounds', () => {
  test('15,000 pending non-contiguous UIDs are listed, found present and removed', async (t) => {
    const user = await addUser('uids');
    await saveMessages(user, [buildMessage({ subject: 'first' })]);
    // 29,999 more written straight into the Maildir: doveadm save would take minutes
    const maildir = path.join(testEnv.dovecotDir(), 'home', user.name, 'Maildir', 'new');
    const small = (i: number): Buffer => Buffer.from(`Subject: m${i}\r\nMessage-ID: <m${i}@uids>\r\n\r\nbody ${i}\r\n`);
    for (let i = 2; i <= 30_000; i += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, 30_001 - i) }, (_, k) =>
          writeFile(path.join(maildir, `1700000000.M${i + k}P1.uids`), small(i + k)),
        ),
      );
    }
    await run('chown', ['-R', 'mail:mail', path.dirname(maildir)]);
    const conf = path.join(testEnv.dovecotDir(), 'dovecot.conf');
    const even = Array.from({ length: 15_000 }, (_, i) => 2 * (i + 1)).join(',');
    await run('doveadm', ['-c', conf, 'expunge', '-u', user.name, 'mailbox', 'INBOX', 'uid', even]);
    assert.equal(await mailboxCount(user), 15_000);

    const source = createImapSource({ timeoutMs: 30_000, networkPolicy: loopbackPolicy });
    const mail = await source.open(endpoint(user, 1024 * 1024));
    t.after(() => mail.abort());
    const first = await mail.list([]);
    const { uidvalidity } = first.folders[0];
    const odd = Array.from({ length: 15_000 }, (_, i) => String(2 * i + 1));
    const listing = await mail.list([{ folder: 'INBOX', uidvalidity, highestUid: 30_000, pendingUids: odd }]);
    assert.equal(listing.messages.length, 15_000, 'every pending UID found by FETCH');
    assert.deepEqual(
      listing.messages.map((m) => m.uid),
      odd,
    );

    const fetched = await fetchAll(mail, listing.messages.slice(0, 250));
    assert.equal(fetched.filter((f) => f.raw !== null).length, 250);

    const refs = listing.messages.map((m) => ({ folder: m.folder, uidvalidity: m.uidvalidity, uid: m.uid, size: m.size }));
    assert.equal((await mail.present(refs)).length, 15_000, 'every one present by SEARCH');
    const removed = await mail.remove(refs);
    assert.equal(removed.length, 15_000);
    await mail.commit();
    assert.equal(await mailboxCount(user), 0);
  });

  test('a message larger than the limit yields the oversize marker at limit + 1 bytes, whatever size was declared', async (t) => {
    const user = await addUser('big');
    const messages = [
      buildMessage({ subject: 'small' }),
      buildMessage({ subject: 'big', body: textOfSize(300_000) }),
      buildMessage({ subject: 'after' }),
    ];
    await appendMessages(
      user,
      'INBOX',
      messages.map((raw) => ({ raw })),
    );
    const mail = await createImapSource({ timeoutMs: 10_000, networkPolicy: loopbackPolicy, chunkBytes: 64 * 1024 }).open(
      endpoint(user, 100_000),
    );
    t.after(() => mail.abort());
    const { messages: listed } = await mail.list([]);
    assert.equal(listed.length, 3);
    // the limit holds on what arrives, not on the size the listing declared
    const fetched = await fetchAll(
      mail,
      listed.map((m) => ({ ...m, size: 10 })),
    );
    assert.equal(fetched.length, 3);
    assert.deepEqual(fetched[0].raw, messages[0]);
    assert.ok(fetched[1].raw === null && fetched[1].oversize === 100_001, 'oversize after limit + 1 bytes');
    assert.deepEqual(fetched[2].raw, messages[2]);
    const whole = await createImapSource({ timeoutMs: 10_000, networkPolicy: loopbackPolicy, chunkBytes: 64 * 1024 }).open(
      endpoint(user, 1_000_000),
    );
    t.after(() => whole.abort());
    const again = await fetchAll(whole, (await whole.list([])).messages);
    assert.deepEqual(
      again.map((f) => f.raw),
      messages,
      'byte-identical when within the limit, in pieces',
    );
  });
});
