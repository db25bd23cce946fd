import { spawn } from 'node:child_process';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addUser, caCertificate, countOnServer, type DovecotUser } from '../testkit/dovecot';
import { firstCycleTimeline, formatTimeline } from '../testkit/cycle-timeline';
import { costOf, cycleCost, cyclesOf, type CycleCost } from '../testkit/engine-cost';
import { testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { TestSystem } from '../testkit/system';
import { fillMaildir, realisticCorpus } from './corpus';
import { rawImap, rawPop3 } from './raw-loops';

type Protocol = 'pop3' | 'imap';

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
async function mailpull(protocol: Protocol, user: DovecotUser, sink?: DovecotUser): Promise<number> {
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
    await warmUp(sys, protocol);
    let delivered: number | undefined;
    let externalId = '';
    const seconds = await timed(async () => {
      const external = protocol === 'pop3' ? await sys.pop3Account(owner, user) : await sys.imapAccount(owner, user);
      externalId = external.id;
      delivered = (await sys.waitForCycles(external.id, 1, 30 * 60_000)).lastRun?.delivered;
    });
    if (delivered !== COUNT) throw new Error(`mailpull (${protocol}) delivered ${delivered} of ${COUNT}`);
    engineCost = await costPerCycle(sys, externalId);
    const inSink = sink ? await countOnServer(sink) : COUNT;
    if (inSink !== COUNT) throw new Error(`mailpull (${protocol}) left ${inSink} of ${COUNT} in the LMTP sink`);
    return seconds;
  } finally {
    await sys.close();
  }
}

/** Collects a mailbox of one message for a new local account (`name` names it) and checks it was delivered. */
async function collectOne(sys: TestSystem, protocol: Protocol, user: DovecotUser, name: string, timeoutMs: number): Promise<void> {
  const owner = await sys.localAccount(`${name}-${protocol}@bench.test`);
  const external = protocol === 'pop3' ? await sys.pop3Account(owner, user) : await sys.imapAccount(owner, user);
  const delivered = (await sys.waitForCycles(external.id, 1, timeoutMs)).lastRun?.delivered;
  if (delivered !== 1) throw new Error(`mailpull (${protocol}) delivered ${delivered} of 1 ${name} message`);
}

/**
 * One collection of a one-message mailbox before the measured one: the worker then runs warm, as
 * a production worker does (its first workflow task loads the workflow code).
 */
async function warmUp(sys: TestSystem, protocol: Protocol): Promise<void> {
  await collectOne(sys, protocol, await mailboxWith([buildMessage({ subject: 'warm-up' })], 'bwm'), 'warm-up', 60_000);
}

/** What Temporal billed the last mailpull row: printed beside its msg/s. */
let engineCost: string | null = null;

/**
 * The collecting cycle's actions and workflow tasks and where its time went (from its history),
 * then an idle cycle's actions and workflow tasks after Connect Now.
 */
async function costPerCycle(sys: TestSystem, externalId: string): Promise<string> {
  const ended = async (n: number) =>
    waitFor(`cycle ${n} to end in a wait`, async () => cyclesOf((await sys.history(externalId)).events ?? [])[n - 1], 60_000, 100);
  const collecting = costOf(await ended(1));
  const timeline = formatTimeline(firstCycleTimeline((await sys.history(externalId)).events ?? []));
  await sys.ok('POST', `/api/external-accounts/${externalId}/connect-now`, undefined, 202);
  const idle = cycleCost(await ended(2));
  const cost = (c: CycleCost) => `${c.actions} actions ${c.workflowTasks} wft`;
  return (
    `first cycle: ${cost(collecting)} (${collecting.activities.filter((a) => a === 'downloadBatch').length} batches), idle: ${cost(idle)}\n` +
    `    where the first cycle's time went: ${timeline}`
  );
}

/** Dovecot's MDA: writes into the recipient's Maildir and fsyncs, a process per message. */
const DOVECOT_LDA = '/usr/lib/dovecot/dovecot-lda';

/**
 * fetchmail with STARTTLS/STLS and the certificate checked, delivering by LMTP to Dovecot or
 * through an MDA (dovecot-lda) into the sink's Maildir.
 */
async function fetchmail(protocol: Protocol, user: DovecotUser, sink: DovecotUser, delivery: 'lmtp' | 'mda'): Promise<number> {
  const dir = path.join(testEnv.dovecotDir(), `fetchmail-${protocol}-${delivery}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const rc = path.join(dir, 'fetchmailrc');
  const port = protocol === 'pop3' ? testEnv.pop3Port() : testEnv.imapPort();
  const conf = path.join(testEnv.dovecotDir(), 'dovecot.conf');
  await writeFile(
    rc,
    [
      `poll 127.0.0.1 service ${port} protocol ${protocol}${protocol === 'pop3' ? ' uidl' : ''}`,
      `  user "${user.name}" password "${user.password}" is "${sink.name}" here`,
      `  sslproto 'TLS1.2+' sslcertck sslcommonname localhost sslcertfile "${path.join(testEnv.dovecotDir(), 'tls', 'ca.pem')}"`,
      '  keep fetchall',
      delivery === 'lmtp'
        ? `  lmtp smtphost "127.0.0.1/${lmtpPort()}" smtpname "${sink.name}"`
        : `  mda "${DOVECOT_LDA} -c ${conf} -d ${sink.name} -f %F"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const seconds = await timed(() => run('fetchmail', ['-f', rc, '--nodetach', '--nosyslog', '-s'], { FETCHMAILHOME: dir }));
  const delivered = await countOnServer(sink);
  if (delivered !== COUNT) throw new Error(`fetchmail (${protocol} → ${delivery}) delivered ${delivered} of ${COUNT}`);
  return seconds;
}

/** Debian's "mail" user, who owns the Dovecot mailboxes too (scripts/dovecot.sh). */
const MAIL_UID = 8;
const MAIL_GID = 8;

type GetmailDestination = { kind: 'lmtp'; sink: DovecotUser } | { kind: 'maildir' };

/** How many different messages (by Message-ID) a Maildir folder holds: getmail's restarts deliver some twice. */
async function distinctMessages(folder: string): Promise<number> {
  const ids = new Set<string>();
  for (const name of await readdir(folder)) {
    const head = (await readFile(path.join(folder, name))).subarray(0, 4096).toString('latin1');
    ids.add(/^Message-ID: (.*)$/im.exec(head)?.[1] ?? name);
  }
  return ids.size;
}

/** getmail6 waits this long for a child that already exited before it listened (see getmail below). */
const GETMAIL_TIMEOUT_SECONDS = 2;
const GETMAIL_MAX_RUNS = 50;

/**
 * getmail6 over POP3S or IMAPS with the certificate checked, delivering by LMTP to Dovecot or into
 * a Maildir of its own, remembering what it collected (read_all = false) as mailpull does.
 * getmail6 6.18 forks a child per Maildir delivery and installs its SIGCHLD handler only after the
 * fork: a child that exits first is waited for until the socket timeout, then the run fails. As
 * from cron, the next run goes on where the last stopped (delivering that child's message again);
 * the time includes those restarts.
 */
async function getmail(protocol: Protocol, user: DovecotUser, destination: GetmailDestination): Promise<number> {
  const dir = path.join(testEnv.dovecotDir(), `getmail-${protocol}-${destination.kind}`);
  await rm(dir, { recursive: true, force: true });
  const maildir = path.join(dir, 'Maildir');
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    await mkdir(path.join(maildir, sub), { recursive: true });
    await chown(path.join(maildir, sub), MAIL_UID, MAIL_GID); // getmail refuses to deliver as root: it delivers as "mail"
  }
  const rc = path.join(dir, 'getmailrc');
  await writeFile(
    rc,
    [
      '[retriever]',
      `type = ${protocol === 'pop3' ? 'SimplePOP3SSLRetriever' : 'SimpleIMAPSSLRetriever'}`,
      'server = 127.0.0.1',
      `port = ${protocol === 'pop3' ? testEnv.pop3sPort() : testEnv.imapsPort()}`,
      `username = ${user.name}`,
      `password = ${user.password}`,
      `ca_certs = ${path.join(testEnv.dovecotDir(), 'tls', 'ca.pem')}`,
      'ssl_cert_hostname = localhost',
      `timeout = ${GETMAIL_TIMEOUT_SECONDS}`,
      ...(protocol === 'imap' ? ["mailboxes = ('INBOX',)"] : []),
      '[destination]',
      ...(destination.kind === 'lmtp'
        ? ['type = MDA_lmtp', 'host = 127.0.0.1', `port = ${lmtpPort()}`, `override = ${destination.sink.name}`]
        : ['type = Maildir', `path = ${maildir}/`, 'user = mail']),
      '[options]',
      'read_all = false',
      'delete = false',
      'verbose = 0',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const delivered = async (): Promise<number> =>
    destination.kind === 'lmtp' ? countOnServer(destination.sink) : distinctMessages(path.join(maildir, 'new'));
  let runs = 0;
  const seconds = await timed(async () => {
    for (;;) {
      runs++;
      const failed = await run('getmail', [`--rcfile=${rc}`, `--getmaildir=${dir}`, '--quiet']).then(
        () => null,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
      if (!failed || (await delivered()) >= COUNT) return;
      if (runs >= GETMAIL_MAX_RUNS) throw failed;
    }
  });
  const got = await delivered();
  if (got !== COUNT) throw new Error(`getmail (${protocol} → ${destination.kind}) delivered ${got} of ${COUNT}`);
  if (runs > 1) console.log(`    (getmail6 → ${destination.kind} ran ${runs} times: its child-wait race)`);
  return seconds;
}

/**
 * Runs of the raw loop, each on a mailbox of its own filled as mailpull's is (a second run on the
 * same mailbox finds Dovecot's caches warm): the fastest is the wire's limit.
 */
const RAW_RUNS = 3;

async function raw(protocol: Protocol, mailbox: () => Promise<DovecotUser>): Promise<number> {
  const ca = await caCertificate();
  let fastest = Infinity;
  for (let run = 0; run < RAW_RUNS; run++) {
    const user = await mailbox();
    let got = { messages: 0, bytes: 0 };
    const seconds = await timed(async () => {
      got = protocol === 'pop3' ? await rawPop3(testEnv.pop3Port(), ca, user) : await rawImap(testEnv.imapPort(), ca, user);
    });
    if (got.messages !== COUNT) throw new Error(`the raw ${protocol} loop read ${got.messages} of ${COUNT}`);
    fastest = Math.min(fastest, seconds);
  }
  return fastest;
}

type Role = 'raw' | 'mailpull' | 'mailpull-lmtp' | 'peer';

const line = (name: string, seconds: number, bytes: number): string =>
  `  ${name.padEnd(52)} ${seconds.toFixed(2).padStart(8)} s ${(COUNT / seconds).toFixed(1).padStart(9)} msg/s ${(bytes / 1e6 / seconds)
    .toFixed(1)
    .padStart(8)} MB/s`;

/** One protocol's rows, each printed as soon as it is measured, then mailpull → store against the raw loop and the fastest peer. */
class Table {
  private readonly rows: { name: string; seconds: number; role: Role }[] = [];

  constructor(
    title: string,
    private readonly bytes: number,
  ) {
    console.log(title);
  }

  async add(name: string, role: Role, work: () => Promise<number>): Promise<void> {
    const seconds = await work();
    this.rows.push({ name, seconds, role });
    const cost = engineCost ? `  ${engineCost}` : '';
    engineCost = null;
    console.log(line(name, seconds, this.bytes) + cost);
  }

  verdict(goalOfRaw: number): void {
    const of = (role: Role) => this.rows.filter((r) => r.role === role);
    const [rawRow] = of('raw');
    const [mine] = of('mailpull');
    const peers = of('peer');
    if (!rawRow || !mine) return;
    let verdict = `  mailpull → store: ${((100 * rawRow.seconds) / mine.seconds).toFixed(0)} % of the raw loop (goal ≥ ${goalOfRaw} %)`;
    if (peers.length > 0) {
      const best = peers.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      verdict += `, ${(best.seconds / mine.seconds).toFixed(2)}× the fastest peer, ${best.name} (goal ≥ 3×)`;
    }
    console.log(verdict);
  }
}

const LARGE_BYTES = 50 * 1024 * 1024;

/** Resident set size and its peak since the last reset, in bytes, from /proc. */
async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/**
 * Collects one message of LARGE_BYTES into the store and reports the worker's RSS just before,
 * at its peak (the kernel's high-water mark, reset before the collection, and samples every
 * 10 ms) and after. A warm-up collection of a small message comes first, so the growth is the
 * large message's, not the worker's first workflow's.
 */
async function largeMessage(protocol: Protocol, message: Buffer): Promise<{ before: number; peak: number; after: number }> {
  const sys = await TestSystem.start();
  try {
    const pid = sys.worker?.child.pid;
    if (pid === undefined) throw new Error('the worker has no pid');
    await warmUp(sys, protocol);
    const user = await mailboxWith([message], 'blg');
    const before = (await memoryOf(pid)).rss;
    await writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined); // resets VmHWM to the current RSS
    let sampled = before;
    const sampler = setInterval(() => {
      memoryOf(pid).then(
        (m) => (sampled = Math.max(sampled, m.rss)),
        () => undefined,
      );
    }, 10);
    try {
      await collectOne(sys, protocol, user, 'large', 10 * 60_000);
    } finally {
      clearInterval(sampler);
    }
    const end = await memoryOf(pid);
    return { before, peak: Math.max(sampled, end.hwm, end.rss), after: end.rss };
  } finally {
    await sys.close();
  }
}

async function mailboxWith(corpus: readonly Buffer[], prefix: string): Promise<DovecotUser> {
  const user = await addUser(prefix);
  await fillMaildir(testEnv.dovecotDir(), user.name, corpus);
  await countOnServer(user); // let Dovecot index the mailbox first, so no tool pays for it
  return user;
}

/** BENCH_PEERS=0 leaves out the peers and mailpull → LMTP, BENCH_LARGE=0 the large message (for quick runs). */
const wanted = (name: string): boolean => process.env[name] !== '0';
/** BENCH_PROTOCOLS (default "pop3,imap") picks the protocols whose tables run. */
const protocols = new Set((process.env.BENCH_PROTOCOLS ?? 'pop3,imap').split(',').map((p) => p.trim().toLowerCase()));

async function pop3Table(corpus: readonly Buffer[], bytes: number, peers: boolean): Promise<void> {
  const pop3 = new Table('POP3:', bytes);
  await pop3.add('raw RETR loop, bytes dropped (STLS), best of 3', 'raw', () => raw('pop3', () => mailboxWith(corpus, 'bpr')));
  await pop3.add('mailpull → store (STLS)', 'mailpull', async () => mailpull('pop3', await mailboxWith(corpus, 'bpm')));
  if (peers) {
    await pop3.add('mailpull → LMTP (STLS)', 'mailpull-lmtp', async () =>
      mailpull('pop3', await mailboxWith(corpus, 'bpl'), await addUser('bpk')),
    );
    await pop3.add('fetchmail → dovecot-lda, Maildir (STLS)', 'peer', async () =>
      fetchmail('pop3', await mailboxWith(corpus, 'bpd'), await addUser('bpe'), 'mda'),
    );
    await pop3.add('fetchmail → LMTP (STLS)', 'peer', async () =>
      fetchmail('pop3', await mailboxWith(corpus, 'bpf'), await addUser('bps'), 'lmtp'),
    );
    await pop3.add('getmail6 → Maildir (POP3S)', 'peer', async () =>
      getmail('pop3', await mailboxWith(corpus, 'bpg'), { kind: 'maildir' }),
    );
    await pop3.add('getmail6 → LMTP (POP3S)', 'peer', async () =>
      getmail('pop3', await mailboxWith(corpus, 'bph'), { kind: 'lmtp', sink: await addUser('bpt') }),
    );
  }
  pop3.verdict(80);
}

async function imapTable(corpus: readonly Buffer[], bytes: number, peers: boolean): Promise<void> {
  const imap = new Table('IMAP:', bytes);
  await imap.add('raw UID FETCH 1:* BODY.PEEK[], dropped, best of 3', 'raw', () => raw('imap', () => mailboxWith(corpus, 'bir')));
  await imap.add('mailpull → store (STARTTLS)', 'mailpull', async () => mailpull('imap', await mailboxWith(corpus, 'bim')));
  if (peers) {
    await imap.add('mailpull → LMTP (STARTTLS)', 'mailpull-lmtp', async () =>
      mailpull('imap', await mailboxWith(corpus, 'bil'), await addUser('bik')),
    );
    await imap.add('fetchmail → dovecot-lda, Maildir (STARTTLS)', 'peer', async () =>
      fetchmail('imap', await mailboxWith(corpus, 'bid'), await addUser('bie'), 'mda'),
    );
    await imap.add('fetchmail → LMTP (STARTTLS)', 'peer', async () =>
      fetchmail('imap', await mailboxWith(corpus, 'bif'), await addUser('bis'), 'lmtp'),
    );
    await imap.add('getmail6 → Maildir (IMAPS)', 'peer', async () =>
      getmail('imap', await mailboxWith(corpus, 'bgm'), { kind: 'maildir' }),
    );
    await imap.add('getmail6 → LMTP (IMAPS)', 'peer', async () =>
      getmail('imap', await mailboxWith(corpus, 'big'), { kind: 'lmtp', sink: await addUser('bgs') }),
    );
  }
  imap.verdict(15);
}

async function main(): Promise<void> {
  const corpus = realisticCorpus(COUNT);
  const bytes = corpus.reduce((sum, m) => sum + m.length, 0);
  console.log(
    `mailbox: ${COUNT} messages, ${(bytes / 1e6).toFixed(1)} MB on Dovecot, TLS everywhere, PostgreSQL fsync on; ` +
      'mailpull into its store or by LMTP, the peers by LMTP to the same Dovecot or into a Maildir through their fastest durable path',
  );
  const peers = wanted('BENCH_PEERS');

  if (protocols.has('pop3')) await pop3Table(corpus, bytes, peers);
  if (protocols.has('imap')) await imapTable(corpus, bytes, peers);

  if (wanted('BENCH_LARGE')) {
    const message = buildMessage({ subject: 'large', body: textOfSize(LARGE_BYTES) });
    const mb = (n: number): string => `${(n / 1e6).toFixed(0)} MB`;
    console.log(`one message of ${mb(message.length)} into the store, worker RSS (goal: growth under 2× the message):`);
    for (const protocol of (['pop3', 'imap'] as const).filter((p) => protocols.has(p))) {
      const { before, peak, after } = await largeMessage(protocol, message);
      console.log(
        `  ${protocol.toUpperCase().padEnd(5)} before ${mb(before)}, peak ${mb(peak)} (growth ${mb(peak - before)} = ` +
          `${((peak - before) / message.length).toFixed(2)}× the message), after ${mb(after)}`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
