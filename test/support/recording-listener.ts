import net from 'node:net';

/**
 * A TCP listener on loopback that records every byte it receives and plays just enough POP3 or
 * IMAP for a client to try to log in, then refuses the login: where a test points an account or
 * a delivery target to see whether a secret would be sent there.
 */
export interface RecordingListener {
  port: number;
  connections: number;
  /** everything received on every connection */
  received(): Buffer;
  close(): Promise<void>;
}

function pop3(line: string): { reply: string; end?: boolean } {
  const verb = line.split(' ')[0].toUpperCase();
  if (verb === 'CAPA') return { reply: '+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n' };
  if (verb === 'PASS' || verb === 'APOP' || verb === 'AUTH') return { reply: '-ERR [AUTH] no\r\n', end: true };
  if (verb === 'QUIT') return { reply: '+OK\r\n', end: true };
  return { reply: '+OK\r\n' };
}

function imapSession(): (line: string) => { reply: string; end?: boolean } {
  let waiting: string | null = null;
  return (line) => {
    if (waiting !== null) return { reply: `${waiting} NO [AUTHENTICATIONFAILED] no\r\n`, end: true };
    const [tag, command = '', ...rest] = line.split(' ');
    const verb = command.toUpperCase();
    if (verb === 'CAPABILITY') return { reply: `* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n${tag} OK done\r\n` };
    if (verb === 'LOGIN') return { reply: `${tag} NO [AUTHENTICATIONFAILED] no\r\n`, end: true };
    if (verb === 'AUTHENTICATE') {
      if (rest.length > 1) return { reply: `${tag} NO [AUTHENTICATIONFAILED] no\r\n`, end: true };
      waiting = tag;
      return { reply: '+ \r\n' };
    }
    if (verb === 'LOGOUT') return { reply: `* BYE\r\n${tag} OK bye\r\n`, end: true };
    return { reply: `${tag} OK done\r\n` };
  };
}

export async function startRecordingListener(speak: 'pop3' | 'imap'): Promise<RecordingListener> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const answer = speak === 'pop3' ? pop3 : imapSession();
    let pending = '';
    socket.write(speak === 'pop3' ? '+OK ready\r\n' : '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n');
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      pending += data.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const { reply, end: close } = answer(pending.slice(0, end));
        pending = pending.slice(end + 2);
        socket.write(reply);
        if (close) socket.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return connections;
    },
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Whether the bytes carry the secret: in clear, or inside any base64 word (SASL PLAIN, XOAUTH2). */
export function carries(bytes: Buffer, secret: string): boolean {
  const text = bytes.toString('latin1');
  if (text.includes(secret)) return true;
  return (text.match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? []).some((word) => Buffer.from(word, 'base64').toString('latin1').includes(secret));
}
