import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addUser, countOnServer } from '../test/support/dovecot';
import { testEnv } from '../test/support/env';
import { TestSystem } from '../test/support/system';
import { fillMaildir, realisticCorpus } from './corpus';

const COUNT = Number(process.env.BENCH_MESSAGES ?? 2000);

function runFetchmail(rcFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('fetchmail', ['-f', rcFile, '--nodetach', '--nosyslog', '-s'], {
      env: { ...process.env, FETCHMAILHOME: path.dirname(rcFile) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`fetchmail exited with ${code}`))));
  });
}

const line = (name: string, seconds: number, bytes: number): string =>
  `${name.padEnd(10)} ${seconds.toFixed(2).padStart(8)} s ${(COUNT / seconds).toFixed(1).padStart(9)} msg/s ${(bytes / 1e6 / seconds)
    .toFixed(1)
    .padStart(8)} MB/s`;

async function main(): Promise<void> {
  const corpus = realisticCorpus(COUNT);
  const bytes = corpus.reduce((sum, m) => sum + m.length, 0);
  const dovecotDir = testEnv.dovecotDir();
  const forMailpull = await addUser('bm');
  const forFetchmail = await addUser('bf');
  const sink = await addUser('bs');
  await fillMaildir(dovecotDir, forMailpull.name, corpus);
  await fillMaildir(dovecotDir, forFetchmail.name, corpus);
  // let Dovecot index both mailboxes first, so neither side pays for it
  await countOnServer(forMailpull);
  await countOnServer(forFetchmail);
  console.log(`mailbox: ${COUNT} messages, ${(bytes / 1e6).toFixed(1)} MB, POP3 with STLS on Dovecot ${testEnv.pop3Port()}`);

  const sys = await TestSystem.start();
  let mailpullSeconds: number;
  try {
    const owner = await sys.localAccount('bench@bench.test');
    const started = Date.now();
    const external = await sys.pop3Account(owner, forMailpull);
    const status = await sys.waitForCycles(external.id, 1, 30 * 60_000);
    mailpullSeconds = (Date.now() - started) / 1000;
    if (status.lastRun?.downloaded !== COUNT) throw new Error(`mailpull delivered ${status.lastRun?.downloaded} of ${COUNT}`);
  } finally {
    await sys.close();
  }

  const rc = path.join(dovecotDir, 'fetchmailrc');
  await writeFile(
    rc,
    [
      `poll 127.0.0.1 service ${testEnv.pop3Port()} protocol pop3 uidl`,
      `  user "${forFetchmail.name}" password "${forFetchmail.password}" is "${sink.name}" here`,
      `  sslproto 'TLS1.2+' sslcertck sslcommonname localhost sslcertfile "${path.join(dovecotDir, 'tls', 'ca.pem')}"`,
      `  keep fetchall`,
      `  lmtp smtphost "127.0.0.1/${process.env.DOVECOT_LMTP_PORT}" smtpname "${sink.name}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const started = Date.now();
  await runFetchmail(rc);
  const fetchmailSeconds = (Date.now() - started) / 1000;
  const delivered = await countOnServer(sink);
  if (delivered !== COUNT) throw new Error(`fetchmail delivered ${delivered} of ${COUNT}`);

  console.log(line('mailpull', mailpullSeconds, bytes));
  console.log(line('fetchmail', fetchmailSeconds, bytes));
  console.log(`mailpull / fetchmail: ${(fetchmailSeconds / mailpullSeconds).toFixed(2)}×`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
