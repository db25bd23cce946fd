import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addUser, countOnServer, type DovecotUser } from '../test/support/dovecot';
import { testEnv } from '../test/support/env';
import { TestSystem } from '../test/support/system';
import { fillMaildir, realisticCorpus } from './corpus';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 2000);
const lmtpPort = (): string => process.env.DOVECOT_LMTP_PORT ?? '';

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
  });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await work();
  return (Date.now() - started) / 1000;
}

/**
 * mailpull: create the account through the API and wait for its first cycle to finish. With a
 * sink, the owner's domain delivers by LMTP into the sink's Dovecot mailbox, as the peers do;
 * without, into the built-in store.
 */
async function mailpull(protocol: 'pop3' | 'imap', user: DovecotUser, sink?: DovecotUser): Promise<number> {
  const sys = await TestSystem.start();
  try {
    let owner: { id: string };
    if (sink) {
      const domain = `bench-lmtp-${protocol}.test`;
      const target = await sys.ok('POST', '/api/delivery-targets', {
        name: domain,
        kind: 'lmtp',
        host: '127.0.0.1',
        port: Number(lmtpPort()),
        tlsMode: 'disabled',
      });
      await sys.ok('POST', '/api/domains', { name: domain, deliveryTargetId: target.id });
      owner = await sys.ok('POST', '/api/accounts', { address: `${sink.name}@${domain}` });
    } else {
      owner = await sys.localAccount(`bench-${protocol}@bench.test`);
    }
    let delivered: number | undefined;
    const seconds = await timed(async () => {
      const external = protocol === 'pop3' ? await sys.pop3Account(owner, user) : await sys.imapAccount(owner, user);
      delivered = (await sys.waitForCycles(external.id, 1, 30 * 60_000)).lastRun?.delivered;
    });
    if (delivered !== COUNT) throw new Error(`mailpull (${protocol}) delivered ${delivered} of ${COUNT}`);
    const inSink = sink ? await countOnServer(sink) : COUNT;
    if (inSink !== COUNT) throw new Error(`mailpull (${protocol}) left ${inSink} of ${COUNT} in the LMTP sink`);
    return seconds;
  } finally {
    await sys.close();
  }
}

/** fetchmail with STARTTLS/STLS and the certificate checked, delivering by LMTP to Dovecot. */
async function fetchmail(protocol: 'pop3' | 'imap', user: DovecotUser, sink: DovecotUser): Promise<number> {
  const dir = path.join(testEnv.dovecotDir(), `fetchmail-${protocol}`);
  await mkdir(dir, { recursive: true });
  const rc = path.join(dir, 'fetchmailrc');
  const port = protocol === 'pop3' ? testEnv.pop3Port() : testEnv.imapPort();
  await writeFile(
    rc,
    [
      `poll 127.0.0.1 service ${port} protocol ${protocol}${protocol === 'pop3' ? ' uidl' : ''}`,
      `  user "${user.name}" password "${user.password}" is "${sink.name}" here`,
      `  sslproto 'TLS1.2+' sslcertck sslcommonname localhost sslcertfile "${path.join(testEnv.dovecotDir(), 'tls', 'ca.pem')}"`,
      '  keep fetchall',
      `  lmtp smtphost "127.0.0.1/${lmtpPort()}" smtpname "${sink.name}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const seconds = await timed(() => run('fetchmail', ['-f', rc, '--nodetach', '--nosyslog', '-s'], { FETCHMAILHOME: dir }));
  const delivered = await countOnServer(sink);
  if (delivered !== COUNT) throw new Error(`fetchmail (${protocol}) delivered ${delivered} of ${COUNT}`);
  return seconds;
}

/** getmail6 over IMAPS with the certificate checked, delivering by LMTP to Dovecot. */
async function getmail(user: DovecotUser, sink: DovecotUser): Promise<number> {
  const dir = path.join(testEnv.dovecotDir(), 'getmail');
  await mkdir(dir, { recursive: true });
  const rc = path.join(dir, 'getmailrc');
  await writeFile(
    rc,
    [
      '[retriever]',
      'type = SimpleIMAPSSLRetriever',
      'server = 127.0.0.1',
      `port = ${testEnv.imapsPort()}`,
      `username = ${user.name}`,
      `password = ${user.password}`,
      `ca_certs = ${path.join(testEnv.dovecotDir(), 'tls', 'ca.pem')}`,
      'ssl_cert_hostname = localhost',
      "mailboxes = ('INBOX',)",
      '[destination]',
      'type = MDA_lmtp',
      'host = 127.0.0.1',
      `port = ${lmtpPort()}`,
      `override = ${sink.name}`,
      '[options]',
      'read_all = true',
      'delete = false',
      'verbose = 0',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const seconds = await timed(() => run('getmail', [`--rcfile=${rc}`, `--getmaildir=${dir}`, '--quiet']));
  const delivered = await countOnServer(sink);
  if (delivered !== COUNT) throw new Error(`getmail delivered ${delivered} of ${COUNT}`);
  return seconds;
}

const line = (name: string, seconds: number, bytes: number): string =>
  `  ${name.padEnd(17)} ${seconds.toFixed(2).padStart(8)} s ${(COUNT / seconds).toFixed(1).padStart(9)} msg/s ${(bytes / 1e6 / seconds)
    .toFixed(1)
    .padStart(8)} MB/s`;

async function mailboxWith(corpus: readonly Buffer[], prefix: string): Promise<DovecotUser> {
  const user = await addUser(prefix);
  await fillMaildir(testEnv.dovecotDir(), user.name, corpus);
  await countOnServer(user); // let Dovecot index the mailbox first, so no tool pays for it
  return user;
}

async function main(): Promise<void> {
  const corpus = realisticCorpus(COUNT);
  const bytes = corpus.reduce((sum, m) => sum + m.length, 0);
  console.log(
    `mailbox: ${COUNT} messages, ${(bytes / 1e6).toFixed(1)} MB on Dovecot; mailpull into its store or by LMTP, the peers by LMTP, all to the same Dovecot`,
  );

  const pop3Store = await mailpull('pop3', await mailboxWith(corpus, 'bpm'));
  const pop3Lmtp = await mailpull('pop3', await mailboxWith(corpus, 'bpl'), await addUser('bpk'));
  const pop3Fetchmail = await fetchmail('pop3', await mailboxWith(corpus, 'bpf'), await addUser('bps'));
  console.log('POP3 (STLS):');
  console.log(line('mailpull → store', pop3Store, bytes));
  console.log(line('mailpull → LMTP', pop3Lmtp, bytes));
  console.log(line('fetchmail → LMTP', pop3Fetchmail, bytes));
  console.log(`  LMTP, mailpull / fetchmail: ${(pop3Fetchmail / pop3Lmtp).toFixed(2)}×`);

  const imapStore = await mailpull('imap', await mailboxWith(corpus, 'bim'));
  const imapLmtp = await mailpull('imap', await mailboxWith(corpus, 'bil'), await addUser('bik'));
  const imapFetchmail = await fetchmail('imap', await mailboxWith(corpus, 'bif'), await addUser('bis'));
  const imapGetmail = await getmail(await mailboxWith(corpus, 'big'), await addUser('bgs'));
  console.log('IMAP (mailpull and fetchmail STARTTLS, getmail6 IMAPS):');
  console.log(line('mailpull → store', imapStore, bytes));
  console.log(line('mailpull → LMTP', imapLmtp, bytes));
  console.log(line('fetchmail → LMTP', imapFetchmail, bytes));
  console.log(line('getmail6 → LMTP', imapGetmail, bytes));
  console.log(
    `  LMTP, mailpull / fetchmail: ${(imapFetchmail / imapLmtp).toFixed(2)}×, mailpull / getmail6: ${(imapGetmail / imapLmtp).toFixed(2)}×`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
