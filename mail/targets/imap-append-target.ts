import type { ImapFlow } from 'imapflow';
import { outcomeOfAppendFailure, type RecipientOutcome } from '../../core/delivery-outcome';
import { classifyError, MailpullError, type ErrorKind } from '../../core/errors';
import type { Credentials } from '../../core/mailbox-endpoint';
import type { NetworkPolicy } from '../../core/network-policy';
import { defaultPort } from '../../core/tls-decision';
import type { StoredDeliveryTarget } from '../../core/delivery-target';
import { connectImap } from '../imap-connect';
import { allRecipients, type AppendCredentials, type OnAnswer, type Parcel, type TargetClient } from './target-client';

/** Login failures about one recipient's own login (none linked, revoked, refused), not the target. */
const ACCOUNT_LOGIN_KINDS: ReadonlySet<ErrorKind> = new Set(['config', 'reauth', 'auth']);

interface AppendError {
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  message?: string;
}

function outcomeOfError(err: unknown): RecipientOutcome {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AppendError;
  if (e.serverResponseCode === 'APPENDLIMIT') return { status: 'permanent', response: e.message ?? 'larger than the APPENDLIMIT' };
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    const text = `${e.responseStatus} ${e.serverResponseCode ? `[${e.serverResponseCode}] ` : ''}${e.responseText ?? ''}`.trim();
    return outcomeOfAppendFailure({ serverResponse: true, responseCode: e.serverResponseCode, text });
  }
  return outcomeOfAppendFailure({ serverResponse: false, text: classifyError(err).message });
}

/** APPEND, creating the folder when the server says it does not exist yet (TRYCREATE). */
async function append(client: ImapFlow, parcel: Parcel): Promise<void> {
  const flags = [...parcel.flags];
  try {
    await client.append(parcel.folder, parcel.raw, flags, parcel.internalDate);
  } catch (err) {
    if ((err as AppendError).serverResponseCode !== 'TRYCREATE') throw err;
    await client.mailboxCreate(parcel.folder);
    await client.append(parcel.folder, parcel.raw, flags, parcel.internalDate);
  }
}

/**
 * IMAP APPEND into local mailboxes, keeping the folder, INTERNALDATE and flags. With a master
 * login one session per recipient (SASL PLAIN authorization id); with a user login one session
 * into that mailbox, which then holds the message for all the parcel's recipients; with "oauth"
 * one session per recipient, logged in with XOAUTH2 as the mailbox its local account links.
 */
export function imapAppendTarget(
  target: StoredDeliveryTarget,
  timeoutMs: number,
  networkPolicy: NetworkPolicy,
  appendCredentials?: AppendCredentials,
): TargetClient {
  const connect = async (credentials: Pick<Credentials, 'authMethod' | 'username' | 'authzid' | 'secret'>): Promise<ImapFlow> =>
    (
      await connectImap(
        {
          host: target.host ?? '',
          port: target.port ?? defaultPort('imap', target.tlsMode),
          tlsMode: target.tlsMode,
          tlsCa: target.tlsCa,
          allowInvalidCertificates: target.allowInvalidCertificates,
          ...credentials,
        },
        { timeoutMs, networkPolicy },
      )
    ).client;
  const passwordLogin = (authzid: string | undefined) => (): Promise<ImapFlow> =>
    connect({ authMethod: 'password', username: target.username ?? '', authzid, secret: target.password ?? '' });

  /** The recipient's own XOAUTH2 login; a refused access token is refreshed once. */
  const oauthLogin = (accountId: string) => async (): Promise<ImapFlow> => {
    if (!appendCredentials) throw new MailpullError('config', 'this worker has no APPEND logins to use');
    const withToken = async (fresh: boolean): Promise<ImapFlow> => {
      const { username, accessToken } = await appendCredentials.accessFor(target, accountId, fresh);
      return connect({ authMethod: 'xoauth2', username, secret: accessToken });
    };
    try {
      return await withToken(false);
    } catch (err) {
      if (!(err instanceof MailpullError) || err.kind !== 'auth') throw err;
      return withToken(true);
    }
  };

  /**
   * Appends each parcel once into one mailbox, telling each outcome before the next APPEND; a lost
   * session fails what is left as temporary.
   */
  const appendAll = async (
    login: () => Promise<ImapFlow>,
    parcels: readonly Parcel[],
    answered: (k: number, outcome: RecipientOutcome) => Promise<void>,
  ): Promise<RecipientOutcome[]> => {
    const outcomes: RecipientOutcome[] = [];
    let client: ImapFlow;
    try {
      client = await login();
    } catch (err) {
      const { kind, message } = classifyError(err);
      // one recipient's missing or revoked login is not the target's: the others still get theirs
      if (ACCOUNT_LOGIN_KINDS.has(kind) && target.imapLogin === 'oauth')
        return parcels.map(() => ({ status: 'temporary', response: message }));
      return parcels.map(() => ({ status: 'temporary', response: message, unreachable: true }));
    }
    try {
      for (const [k, parcel] of parcels.entries()) {
        if (!client.usable) {
          outcomes.push({ status: 'temporary', response: 'the IMAP connection to the target closed', unreachable: true });
          continue;
        }
        try {
          await append(client, parcel);
          outcomes.push({ status: 'delivered', response: 'APPEND OK' });
        } catch (err) {
          outcomes.push(outcomeOfError(err));
        }
        await answered(k, outcomes[k]);
      }
    } finally {
      await client.logout().catch(() => client.close());
    }
    return outcomes;
  };

  const deliver = async (parcels: readonly Parcel[], onAnswer: OnAnswer): Promise<Map<string, RecipientOutcome>[]> => {
    const results = parcels.map(() => new Map<string, RecipientOutcome>());
    if (target.imapLogin === 'user') {
      const outcomes = await appendAll(passwordLogin(undefined), parcels, (i, outcome) => onAnswer(i, allRecipients(parcels[i], outcome)));
      return parcels.map((p, i) => allRecipients(p, outcomes[i]));
    }
    const byRecipient = new Map<string, { accountId: string; indexes: number[] }>();
    parcels.forEach((p, i) => {
      for (const r of p.recipients) {
        const entry = byRecipient.get(r.address) ?? { accountId: r.accountId, indexes: [] };
        entry.indexes.push(i);
        byRecipient.set(r.address, entry);
      }
    });
    const logins = [...byRecipient.entries()];
    // At most maxConnections sessions at once.
    for (let i = 0; i < logins.length; i += target.maxConnections) {
      await Promise.all(
        logins.slice(i, i + target.maxConnections).map(async ([address, { accountId, indexes }]) => {
          const outcomes = await appendAll(
            target.imapLogin === 'oauth' ? oauthLogin(accountId) : passwordLogin(address),
            indexes.map((n) => parcels[n]),
            (k, outcome) => onAnswer(indexes[k], new Map([[accountId, outcome]])),
          );
          indexes.forEach((n, k) => results[n].set(accountId, outcomes[k]));
        }),
      );
    }
    return results;
  };

  return { deliver, close: () => undefined };
}
