import net from 'node:net';

/** What the proxy reads commands as: POP3 "VERB args", IMAP "tag [UID] VERB args". */
export type ProxiedProtocol = 'pop3' | 'imap';

/** A session to cut: after the client sent `command`, once `afterBytes` of the answer went through. */
export interface CutPlan {
  /** POP3 "RETR", IMAP "UID FETCH" (only fetches of message bodies count) */
  command: string;
  afterBytes: number;
}

export interface CutDone extends CutPlan {
  at: Date;
  /** the client's command line, credentials never included (only RETR/FETCH lines are kept) */
  line: string;
}

/**
 * A session to fall silent: after the client sent one of `verbs` (none: at once, before the
 * greeting) in a line containing `contains`, once `afterBytes` of the answer went through, the
 * server's bytes stop passing, while the connection stays open.
 */
export interface StallPlan {
  verbs: readonly string[];
  contains?: string;
  afterBytes: number;
}

export interface StallDone {
  at: Date;
  /** the client's command line that started the silence; credentials masked ('' for the greeting) */
  line: string;
}

export interface TcpProxy {
  port: number;
  /** sessions open right now, and the most ever open at once */
  active: number;
  maxActive: number;
  sessions: number;
  /** delay per 16 KiB chunk sent to the client, to make a cycle slow */
  delayMs: number;
  /** how often the clients sent each command (verbs, with "UID " kept for IMAP), with a protocol given */
  readonly commands: Map<string, number>;
  close(): Promise<void>;
  /**
   * Stops like a server shutting down: refuses new connections, stops passing what clients send,
   * still passes the answers to what the server already received for `drainMs`, then cuts every
   * session.
   */
  stop(drainMs: number): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  /**
   * Cuts the next transfer that matches: resolves when it was cut, or with null if `withinMs`
   * passed without a matching command (then the plan is dropped).
   */
  cutNext(plan: CutPlan, withinMs: number): Promise<CutDone | null>;
  /** Silences the next session that matches: resolves once its answer stopped passing. */
  stallNext(plan: StallPlan): Promise<StallDone>;
  /** Sessions silenced and still open. */
  readonly stalled: number;
}

const MAX_LINE = 4096;
/** Commands whose arguments are credentials: a recorded line keeps only the verb. */
const SECRET_VERBS = new Set(['USER', 'PASS', 'APOP', 'AUTH', 'LOGIN', 'AUTHENTICATE']);

/** The command verb of a client line: POP3's first word, IMAP's word after the tag (two words for UID ...). */
function verbOf(line: string, protocol: ProxiedProtocol): string {
  const words = line
    .trim()
    .split(' ', 3)
    .map((w) => w.toUpperCase());
  if (protocol === 'pop3') return words[0] ?? '';
  return words[1] === 'UID' ? `UID ${words[2] ?? ''}` : (words[1] ?? '');
}

/** Whether a client line asks for message bytes of the planned kind. */
function startsTransfer(line: string, verb: string, plan: CutPlan): boolean {
  if (verb !== plan.command.toUpperCase()) return false;
  return verb !== 'UID FETCH' || line.toUpperCase().includes('BODY');
}

/**
 * A loopback TCP proxy in front of a real server that counts and can slow its sessions; with a
 * protocol, it also reads the clients' commands and can cut a session in the middle of a transfer.
 */
export async function startProxy(targetPort: number, delayMs = 0, protocol?: ProxiedProtocol): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const sessions = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let armed: { plan: CutPlan; done: (cut: CutDone | null) => void } | null = null;
  let armedStall: { plan: StallPlan; done: (stall: StallDone) => void } | null = null;
  let stalled = 0;
  const proxy: TcpProxy = {
    port: 0,
    active: 0,
    maxActive: 0,
    sessions: 0,
    delayMs,
    commands: new Map(),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
    async stop(drainMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { client, upstream } of sessions) {
        client.unpipe(upstream);
        client.pause();
      }
      await new Promise((r) => setTimeout(r, drainMs));
      for (const s of sockets) s.destroy();
      await closed;
    },
    resume: () => new Promise<void>((resolve) => server.listen(proxy.port, '127.0.0.1', resolve)),
    get stalled() {
      return stalled;
    },
    stallNext(plan) {
      if (plan.verbs.length > 0 && !protocol) throw new Error('stallNext after a command needs a proxy started with a protocol');
      return new Promise((resolve) => (armedStall = { plan, done: resolve }));
    },
    cutNext(plan, withinMs) {
      if (!protocol) throw new Error('cutNext needs a proxy started with a protocol');
      armed?.done(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          if (armed?.plan === plan) armed = null;
          resolve(null);
        }, withinMs);
        armed = {
          plan,
          done: (cut) => {
            clearTimeout(timer);
            resolve(cut);
          },
        };
      });
    },
  };
  const server = net.createServer((client) => {
    proxy.active++;
    proxy.sessions++;
    proxy.maxActive = Math.max(proxy.maxActive, proxy.active);
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const session = { client, upstream };
    sessions.add(session);
    let closed = false;
    let chain = Promise.resolve();
    // With a silence pending for this session: how many more answer bytes may pass.
    let silence: { left: number; line: string; done: (stall: StallDone) => void; silent: boolean } | null = null;
    const silenceAfter = (left: number, line: string, done: (stall: StallDone) => void): void => {
      silence = { left, line, done, silent: false };
      if (left === 0) silent();
    };
    const silent = (): void => {
      if (!silence || silence.silent) return;
      silence.silent = true;
      stalled++;
      silence.done({ at: new Date(), line: silence.line });
    };
    if (armedStall && armedStall.plan.verbs.length === 0) {
      const { plan, done } = armedStall;
      armedStall = null;
      silenceAfter(plan.afterBytes, '', done);
    }
    const close = (): void => {
      if (closed) return;
      closed = true;
      if (silence?.silent) stalled--;
      proxy.active--;
      sessions.delete(session);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    // what the server sent before it closed (QUIT's +OK) still reaches the client, delayed or not
    upstream.on('error', close).on('close', () => void chain.then(close));
    client.pipe(upstream);
    // With a cut pending for this session: how many more answer bytes may pass.
    let cut: { left: number; record: CutDone; done: (cut: CutDone) => void } | null = null;
    if (protocol) {
      let partial = '';
      client.on('data', (data: Buffer) => {
        const lines = (partial + data.toString('latin1')).split('\n');
        partial = (lines.pop() ?? '').slice(-MAX_LINE);
        for (const line of lines) {
          const verb = verbOf(line, protocol);
          proxy.commands.set(verb, (proxy.commands.get(verb) ?? 0) + 1);
          if (armedStall && !silence && armedStall.plan.verbs.includes(verb)) {
            const { plan, done } = armedStall;
            if (line.toUpperCase().includes((plan.contains ?? '').toUpperCase())) {
              armedStall = null;
              silenceAfter(plan.afterBytes, SECRET_VERBS.has(verb) ? `${verb} ****` : line.trim(), done);
            }
          }
          if (armed && !cut && startsTransfer(line, verb, armed.plan)) {
            const { plan, done } = armed;
            armed = null;
            cut = { left: plan.afterBytes, record: { ...plan, at: new Date(), line: line.trim() }, done };
          }
        }
      });
    }
    // Server → client in small chunks, each after the configured delay.
    upstream.on('data', (data: Buffer) => {
      upstream.pause();
      chain = chain.then(async () => {
        for (let i = 0; i < data.length && !closed; i += 16 * 1024) {
          if (proxy.delayMs > 0) await new Promise((r) => setTimeout(r, proxy.delayMs));
          let chunk = data.subarray(i, i + 16 * 1024);
          if (silence?.silent) return;
          if (silence && chunk.length >= silence.left) {
            chunk = chunk.subarray(0, silence.left);
            silent();
          } else if (silence) silence.left -= chunk.length;
          if (cut && chunk.length >= cut.left) {
            const { record, done } = cut;
            client.write(chunk.subarray(0, cut.left), () => close());
            cut = null;
            done({ ...record, at: new Date() });
            return;
          }
          if (cut) cut.left -= chunk.length;
          client.write(chunk);
          if (silence?.silent) return;
        }
        upstream.resume();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}
