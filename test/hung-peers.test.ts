import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deliveredCounts, domainWithTarget } from './support/delivered';
import { addUser, countOnServer, readByPop3, saveMessages, type DovecotUser } from '../testkit/dovecot';
import { sleep, testEnv, waitFor } from '../testkit/env';
import { buildMessage, textOfSize } from '../testkit/messages';
import { useTestSystem } from '../testkit/system';
import { startProxy, type StallPlan, type TcpProxy } from '../testkit/tcp-proxy';

/**
 * Longer than the activities' heartbeat timeout (20 s), as the 60 s default is: the server's
 * silence must be what ends the attempt, named, not a heartbeat timeout that says nothing.
 */
const IDLE_MS = 25_000;
/** After the idle timeout, how long the status may take to show it (a loaded 2-core machine). */
const SHOW_SLACK_MS = 15_000;

interface Step {
  name: string;
  protocol: 'pop3' | 'imap';
  plan: StallPlan;
  /** what the status must say while the account retries */
  says: RegExp;
  deletePolicy?: 'immediately';
}

const at = String.raw`127\.0\.0\.1:\d+`;
const silent = (protocol: string, after: string): RegExp =>
  new RegExp(`^the ${protocol} server ${at} sent nothing for 25 s after ${after}$`);

const STEPS: Step[] = [
  {
    name: 'POP3 greeting',
    protocol: 'pop3',
    plan: { verbs: [], afterBytes: 0 },
    says: new RegExp(`^the POP3 server ${at} accepted the connection and then sent no greeting for 25 s; .*tlsMode "direct"`),
  },
  { name: 'POP3 CAPA', protocol: 'pop3', plan: { verbs: ['CAPA'], afterBytes: 0 }, says: silent('POP3', 'CAPA') },
  { name: 'POP3 login (PASS)', protocol: 'pop3', plan: { verbs: ['PASS'], afterBytes: 0 }, says: silent('POP3', 'PASS') },
  { name: 'POP3 LIST', protocol: 'pop3', plan: { verbs: ['LIST'], afterBytes: 0 }, says: silent('POP3', 'LIST') },
  { name: 'POP3 UIDL', protocol: 'pop3', plan: { verbs: ['UIDL'], afterBytes: 0 }, says: silent('POP3', 'UIDL') },
  {
    name: 'POP3 RETR mid-message',
    protocol: 'pop3',
    plan: { verbs: ['RETR'], afterBytes: 3000 },
    says: silent('POP3', String.raw`RETR \d+, \d+ bytes into its answer`),
  },
  {
    name: 'IMAP greeting',
    protocol: 'imap',
    plan: { verbs: [], afterBytes: 0 },
    says: new RegExp(`^the IMAP server ${at} accepted the connection and then sent no greeting for 25 s; .*tlsMode "direct"`),
  },
  {
    name: 'IMAP login',
    protocol: 'imap',
    plan: { verbs: ['LOGIN', 'AUTHENTICATE'], afterBytes: 0 },
    says: silent('IMAP', '(LOGIN|AUTHENTICATE)'),
  },
  { name: 'IMAP LIST', protocol: 'imap', plan: { verbs: ['LIST'], afterBytes: 0 }, says: silent('IMAP', 'LIST') },
  {
    name: 'IMAP UID FETCH of the listing',
    protocol: 'imap',
    plan: { verbs: ['UID FETCH'], contains: 'RFC822.SIZE', afterBytes: 0 },
    says: silent('IMAP', 'UID FETCH'),
  },
  {
    name: 'IMAP UID FETCH mid-message',
    protocol: 'imap',
    plan: { verbs: ['UID FETCH'], contains: 'BODY', afterBytes: 3000 },
    says: silent('IMAP', 'UID FETCH'),
  },
  {
    name: 'IMAP UID SEARCH before deleting',
    protocol: 'imap',
    plan: { verbs: ['UID SEARCH'], afterBytes: 0 },
    says: silent('IMAP', 'UID SEARCH'),
    deletePolicy: 'immediately',
  },
];

/** When the silence began, when the status first named it, and the account. */
interface Observed {
  stalledAt: number;
  shownAt: number;
  shown: string;
  externalId: string;
  user: DovecotUser;
  messages: Buffer[];
}

describe('a peer that accepts the connection and then never answers', () => {
  const proxies: TcpProxy[] = [];
  /** when each message of the bystander, an account on Dovecot collecting all along, was stored */
  const bystanderStored: number[] = [];
  let running = true;
  let bystanderLoop: Promise<void> = Promise.resolve();
  // registered before the test system's own: the bystander stops before the system does
  after(async () => {
    running = false;
    await bystanderLoop;
    await Promise.all(proxies.map((p) => p.close()));
  });
  const sys = useTestSystem({ workerEnv: { MAILPULL_SOCKET_TIMEOUT_MS: String(IDLE_MS) } });
  const observed = new Map<string, Promise<Observed>>();
  let owner: { id: string };

  /** Creates the account behind a proxy armed to fall silent at the step, and waits for the status to name it. */
  async function silenceAt(step: Step): Promise<Observed> {
    const user = await addUser('hang');
    // over 3000 bytes each, so that a silence "mid-message" is inside the first one
    const messages = [1, 2, 3].map(() => buildMessage({ body: textOfSize(8_000) }));
    await saveMessages(user, messages);
    const proxy = await startProxy(step.protocol === 'pop3' ? testEnv.pop3Port() : testEnv.imapPort(), 0, step.protocol);
    proxies.push(proxy);
    const stalled = proxy.stallNext(step.plan);
    const extra = { port: proxy.port, tlsMode: 'disabled', tlsCa: null, intervalMinutes: 60, deletePolicy: step.deletePolicy ?? 'never' };
    const external = step.protocol === 'pop3' ? await sys.pop3Account(owner, user, extra) : await sys.imapAccount(owner, user, extra);
    const stall = await stalled;
    const seen = await waitFor(
      `the status of ${step.name} to name the silence`,
      async () => {
        const status = await sys.status(external.id);
        const error = status.retrying?.lastError ?? status.lastError;
        return error ? { at: Date.now(), message: `${error.kind}: ${error.message}` } : null;
      },
      IDLE_MS + SHOW_SLACK_MS + 30_000,
      200,
    );
    return { stalledAt: stall.at.getTime(), shownAt: seen.at, shown: seen.message, externalId: external.id, user, messages };
  }

  before(async () => {
    owner = await sys.localAccount('owner@hang.test');
    const bystander = await addUser('bystander');
    const bystanderOwner = await sys.localAccount('bystander@hang.test');
    const account = await sys.pop3Account(bystanderOwner, bystander, { intervalMinutes: 60 });
    await sys.waitForCycles(account.id, 1);
    bystanderLoop = (async () => {
      for (let n = 1; running; n++) {
        await saveMessages(bystander, [buildMessage({ subject: `bystander ${n}` })]);
        await sys.ok('POST', `/api/external-accounts/${account.id}/connect-now`, undefined, 202);
        await waitFor('the bystander to collect', async () => (await sys.storedMessages(bystanderOwner.id)).length >= n, 60_000, 250).catch(
          () => undefined,
        );
        bystanderStored.push(Date.now());
        await sleep(1_000);
      }
    })();
    // all at once: each stalls its own session, none may hold up the others
    for (const step of STEPS) observed.set(step.name, silenceAt(step));
    for (const result of observed.values()) result.catch(() => undefined);
  });

  for (const step of STEPS) {
    test(`${step.name}: the status names host:port and the step within the idle timeout, the others collect, then nothing is lost or doubled`, async () => {
      const seen = await (observed.get(step.name) as Promise<Observed>);
      assert.match(seen.shown, new RegExp(`^timeout: ${step.says.source.slice(1)}`), `the words an admin reads (${step.name})`);
      const took = seen.shownAt - seen.stalledAt;
      assert.ok(took >= IDLE_MS - 1_000, `the attempt waited for the idle timeout, not less (${took} ms)`);
      assert.ok(took <= IDLE_MS + SHOW_SLACK_MS, `shown ${took} ms after the server fell silent (bound ${IDLE_MS + SHOW_SLACK_MS} ms)`);
      assert.ok(
        bystanderStored.some((t) => t > seen.stalledAt && t < seen.shownAt),
        'the account on Dovecot collected while this server was silent',
      );

      // the retry meets an answering server: every message stored once
      const done = await waitFor(
        `a clean cycle of ${step.name}`,
        async () => {
          const status = await sys.status(seen.externalId);
          return status.lastRun?.outcome === 'ok' ? status : null;
        },
        120_000,
        500,
      );
      assert.equal(done.lastRun?.delivered, 3);
      const stored = await sys.storedMessages(owner.id);
      for (const [i, message] of seen.messages.entries()) {
        assert.equal(stored.filter((s) => s.equals(message)).length, 1, `message ${i + 1} stored exactly once`);
      }
      if (step.deletePolicy) {
        await waitFor('the messages to leave the server', async () => (await countOnServer(seen.user)) === 0, 60_000, 500);
      } else {
        assert.equal(await countOnServer(seen.user), 3, 'nothing removed from the server');
      }
    });
  }
});

describe('a delivery target that accepts the connection and then never answers', () => {
  const sys = useTestSystem({ workerEnv: { MAILPULL_SOCKET_TIMEOUT_MS: String(IDLE_MS), MAILPULL_DELIVERY_RETRY_SECONDS: '10' } });
  let proxy: TcpProxy | null = null;

  after(async () => {
    await proxy?.close();
  });

  test('LMTP silent after MAIL FROM: the status names the target, the message is held, then delivered once; the built-in store keeps collecting', async () => {
    // LMTP commands are lines like POP3's: the proxy reads their verbs the same way
    proxy = await startProxy(testEnv.lmtpPort(), 0, 'pop3');
    const stalled = proxy.stallNext({ verbs: ['MAIL'], afterBytes: 0 });
    await domainWithTarget(sys, 'stalled-target.test', { kind: 'lmtp', tlsMode: 'disabled', host: '127.0.0.1', port: proxy.port });
    const destination = await addUser('dst');
    const targetOwner = await sys.ok<{ id: string }>('POST', '/api/accounts', { address: `${destination.name}@stalled-target.test` });
    const source = await addUser('src');
    const messages = [buildMessage(), buildMessage()];
    await saveMessages(source, messages);
    const storeOwner = await sys.localAccount('owner@store.test');
    const other = await addUser('other');

    const external = await sys.pop3Account(targetOwner, source, { intervalMinutes: 60 });
    const stall = await stalled;
    // meanwhile an account whose mail goes to the built-in store collects
    const otherMessage = buildMessage();
    await saveMessages(other, [otherMessage]);
    const otherAccount = await sys.pop3Account(storeOwner, other, { intervalMinutes: 60 });
    await sys.waitForCycles(otherAccount.id, 1, 60_000);
    assert.equal(proxy.stalled, 1, 'the target was still silent when the other account had collected');
    assert.deepEqual(await sys.storedMessages(storeOwner.id), [otherMessage]);

    const shown = await waitFor(
      'the status to name the silent target',
      async () => {
        const status = await sys.status(external.id);
        return status.delivery.lastError ? { at: Date.now(), status } : null;
      },
      IDLE_MS + SHOW_SLACK_MS + 30_000,
      200,
    );
    assert.match(
      shown.status.delivery.lastError?.message ?? '',
      new RegExp(`^${destination.name}@stalled-target\\.test: the LMTP target ${at} sent nothing for 25 s`),
      'the words an admin reads',
    );
    const took = shown.at - stall.at.getTime();
    assert.ok(took >= IDLE_MS - 1_000 && took <= IDLE_MS + SHOW_SLACK_MS, `shown ${took} ms after the target fell silent`);

    // held, offered again: each message delivered to the target exactly once
    const delivered = await waitFor(
      'both messages to reach the target',
      async () => {
        const got = await readByPop3(destination);
        return got.length >= 2 ? got : null;
      },
      120_000,
      1_000,
    );
    await sleep(3_000);
    assert.deepEqual(deliveredCounts(await readByPop3(destination), messages), [1, 1]);
    assert.equal(delivered.length, 2);
    assert.equal(await countOnServer(source), 2, 'nothing removed from the server (delete policy never)');
  });
});
