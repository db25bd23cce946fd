import type net from 'node:net';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { outcomeOfReply, type RecipientOutcome } from '../../core/delivery-outcome';
import { peerAddress } from '../../core/errors';
import type { NetworkPolicy } from '../../core/network-policy';
import { defaultPort } from '../../core/tls-decision';
import type { StoredDeliveryTarget } from '../../core/delivery-target';
import { connectChecked } from '../../core/guarded-connect';
import type { Parcel, TargetClient } from './target-client';

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
  recipient?: string;
  rejectedErrors?: SmtpFailure[];
}

interface SendInfo {
  accepted?: unknown[];
  rejectedErrors?: SmtpFailure[];
  response?: string;
}

// Failures of the connection or the session, not of the message: whatever the reply code (a 535
// to AUTH is a wrong target password), the message waits for the target to be fixed.
const SESSION_ERRORS = new Set(['EAUTH', 'ETLS', 'ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROTOCOL', 'ENOAUTH', 'EPROXY']);

const describe = (f: SmtpFailure): string => f.response ?? f.message ?? 'delivery failed';

/** Where a target's answers come from and how long a silence it may keep: named when it falls silent. */
interface TargetPeer {
  where: string;
  idleMs: number;
}

function outcomeOfFailure(f: SmtpFailure, peer: TargetPeer): RecipientOutcome {
  if (f.code === 'ETIMEDOUT') {
    return { status: 'temporary', response: `${peer.where} sent nothing for ${peer.idleMs / 1000} s (${describe(f)})`, unreachable: true };
  }
  if (f.code && SESSION_ERRORS.has(f.code)) return { status: 'temporary', response: describe(f), unreachable: true };
  return outcomeOfReply(f.responseCode, describe(f));
}

/** Per recipient: the target's own answer when it gave one (RCPT TO, or LMTP's reply per recipient), else the message's. */
function outcomesOf(parcel: Parcel, result: { info: SendInfo } | { error: SmtpFailure }, peer: TargetPeer): Map<string, RecipientOutcome> {
  const byAddress = new Map<string, RecipientOutcome>();
  const rejected = 'info' in result ? result.info.rejectedErrors : result.error.rejectedErrors;
  for (const r of rejected ?? []) {
    if (r.recipient) byAddress.set(r.recipient.toLowerCase(), outcomeOfFailure(r, peer));
  }
  const rest: RecipientOutcome =
    'info' in result ? { status: 'delivered', response: result.info.response ?? '250' } : outcomeOfFailure(result.error, peer);
  return new Map(parcel.recipients.map((r) => [r.accountId, byAddress.get(r.address.toLowerCase()) ?? rest]));
}

/**
 * LMTP (TCP or unix socket) or SMTP through a nodemailer connection pool; the bytes go out
 * unchanged. Each pooled connection is opened here, to an address or socket the network policy
 * allows; nodemailer keeps the host name for STARTTLS/TLS and certificate checks.
 */
export function smtpTarget(target: StoredDeliveryTarget, timeoutMs: number, networkPolicy: NetworkPolicy): TargetClient {
  const host = target.host ?? 'localhost';
  const port = target.port ?? defaultPort(target.kind === 'lmtp' ? 'lmtp' : 'smtp', target.tlsMode);
  const address = target.socketPath !== null ? { socketPath: target.socketPath } : { host, port };
  const peer: TargetPeer = {
    where: `the ${target.kind.toUpperCase()} target ${target.socketPath ?? peerAddress({ protocol: target.kind, host, port })}`,
    idleMs: timeoutMs,
  };
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: target.maxConnections,
    maxMessages: 1000,
    lmtp: target.kind === 'lmtp',
    host,
    port,
    secure: target.tlsMode === 'direct',
    ignoreTLS: target.tlsMode === 'disabled',
    // starttls: no AUTH and no message without the upgrade
    requireTLS: target.tlsMode === 'starttls',
    tls: {
      ca: target.tlsCa ? [...tls.rootCertificates, target.tlsCa] : undefined,
      rejectUnauthorized: !target.allowInvalidCertificates,
    },
    auth: target.username && target.password ? { user: target.username, pass: target.password } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
    getSocket: (_options: unknown, callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void) => {
      connectChecked(address, networkPolicy, timeoutMs).then(
        (socket) => callback(null, { connection: socket }),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
  // A pool reports a broken idle connection as an event; it must not end the worker.
  transporter.on('error', () => undefined);

  const send = async (parcel: Parcel): Promise<Map<string, RecipientOutcome>> => {
    try {
      const info = (await transporter.sendMail({
        envelope: { from: parcel.envelopeFrom, to: parcel.recipients.map((r) => r.address) },
        raw: parcel.raw,
      })) as SendInfo;
      return outcomesOf(parcel, { info }, peer);
    } catch (err) {
      const error: SmtpFailure = typeof err === 'object' && err !== null ? err : { message: String(err) };
      return outcomesOf(parcel, { error }, peer);
    }
  };

  return {
    // One parcel per pooled connection at a time, and a connection takes its next parcel only once
    // the last one's answer is recorded: a crash can then send again at most the parcels in flight.
    deliver: async (parcels, onAnswer) => {
      const outcomes: Map<string, RecipientOutcome>[] = new Array<Map<string, RecipientOutcome>>(parcels.length);
      let next = 0;
      const lane = async (): Promise<void> => {
        for (let i = next++; i < parcels.length; i = next++) {
          outcomes[i] = await send(parcels[i]);
          await onAnswer(i, outcomes[i]);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(target.maxConnections, parcels.length)) }, lane));
      return outcomes;
    },
    close: () => transporter.close(),
  };
}
