import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import { testEnv } from '../../testkit/env';
import type { DovecotUser } from '../../testkit/dovecot';

export interface RemoteMessage {
  uid: number;
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

/** A session with the options given (logged in, no IDLE), logged out after the work. */
export async function withImapSession<T>(
  options: Pick<ImapFlowOptions, 'port' | 'secure' | 'doSTARTTLS' | 'tls' | 'auth'>,
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({ host: '127.0.0.1', logger: false, disableAutoIdle: true, ...options });
  client.on('error', () => undefined);
  await client.connect().catch((err: unknown) => {
    throw withServerAnswer(err, `connecting to port ${options.port} as ${options.auth?.user ?? '?'}`);
  });
  try {
    return await work(client).catch((err: unknown) => {
      throw withServerAnswer(err, 'in the session');
    });
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** imapflow's "Command failed" with what the server answered, so a failing test shows it. */
function withServerAnswer(err: unknown, when: string): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { responseText?: string; response?: unknown; authenticationFailed?: boolean };
  const answer = e.responseText ?? (typeof e.response === 'string' ? e.response : '');
  if (!answer && !e.authenticationFailed) return err;
  return new Error(`${when}: ${e.message}${e.authenticationFailed ? ' (login refused)' : ''}${answer ? `: ${answer}` : ''}`, {
    cause: err,
  });
}

/** A plain IMAP connection to the test Dovecot as the user: the test's view of the remote side. */
export const withImap = <T>(user: DovecotUser, work: (client: ImapFlow) => Promise<T>): Promise<T> =>
  withImapSession({ port: testEnv.imapPort(), secure: false, doSTARTTLS: false, auth: { user: user.name, pass: user.password } }, work);

/** Appends messages with flags and INTERNALDATE, creating the folder if needed. */
export async function appendMessages(
  user: DovecotUser,
  folder: string,
  messages: readonly { raw: Buffer; flags?: string[]; date?: Date }[],
): Promise<void> {
  await withImap(user, async (client) => {
    if (folder.toUpperCase() !== 'INBOX') await client.mailboxCreate(folder).catch(() => undefined);
    for (const m of messages) await client.append(folder, m.raw, m.flags ?? [], m.date);
  });
}

/** Every message of a folder as the server holds it, oldest UID first (read-only, PEEK). */
export async function readFolder(user: DovecotUser, folder: string): Promise<RemoteMessage[]> {
  return withImap(user, async (client) => {
    const box = await client.mailboxOpen(folder, { readOnly: true });
    if (box.exists === 0) return [];
    const rows = await client.fetchAll('1:*', { uid: true, flags: true, internalDate: true, source: true });
    return rows.map((r) => ({
      uid: r.uid,
      raw: r.source ?? Buffer.alloc(0),
      flags: [...(r.flags ?? [])].sort(),
      internalDate: new Date(r.internalDate ?? 0),
    }));
  });
}
