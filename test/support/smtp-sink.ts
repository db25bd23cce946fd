import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Reply {
  code: number;
  message: string;
}

export interface ReceivedMessage {
  /** '' for the null sender */
  from: string;
  to: string[];
  raw: Buffer;
}

/** What the sink answers; null accepts. The test changes it while mailpull runs. */
export interface SinkScript {
  rcpt?: (address: string) => Reply | null;
  data?: () => Reply | null;
}

export interface SmtpSink {
  port: number;
  script: SinkScript;
  /** messages the sink accepted (answered 250 to), with the recipients it accepted */
  received: ReceivedMessage[];
  /** DATA transactions it was offered, accepted or not */
  offered: number;
  close(): Promise<void>;
}

const replyError = (reply: Reply): Error => Object.assign(new Error(reply.message), { responseCode: reply.code });

/** An smtp-server on loopback that records what it accepts and answers what the test scripts. */
export async function startSmtpSink(script: SinkScript = {}): Promise<SmtpSink> {
  const sink: SmtpSink = { port: 0, script, received: [], offered: 0, close: () => Promise.resolve() };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const reply = sink.script.rcpt?.(address.address) ?? null;
      callback(reply ? replyError(reply) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        sink.offered++;
        const reply = sink.script.data?.() ?? null;
        if (reply) return callback(replyError(reply));
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        sink.received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.close = () => new Promise((resolve) => server.close(() => resolve()));
  return sink;
}
