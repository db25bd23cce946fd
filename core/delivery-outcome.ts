import { providerBackoff } from './errors';

/**
 * What a delivery target answered for one recipient of one message, and what mailpull does about
 * it: delivered; temporary (retried with backoff, the message stays on the remote server); or
 * permanent (quarantined, which counts as kept).
 */
export type RecipientOutcome =
  | { status: 'delivered'; response: string }
  // unreachable: no answer about the message at all (a refused connection, a timeout, a failed
  // login or TLS at the target): every other message would meet the same
  // retryAt: the target said when to try again (an upload limit), later than the usual backoff
  | { status: 'temporary'; response: string; unreachable?: true; retryAt?: string }
  | { status: 'permanent'; response: string };

/**
 * An SMTP/LMTP reply code decides for itself (RFC 5321: 2yz done, 4yz transient, 5yz permanent).
 * Without a code (refused connection, timeout, TLS or login trouble at the target) the cause is
 * on our side or the target's, never the message's: retry, never quarantine.
 */
export function outcomeOfReply(code: number | undefined, response: string): RecipientOutcome {
  if (code !== undefined && code >= 200 && code < 300) return { status: 'delivered', response };
  if (code !== undefined && code >= 500 && code < 600) return { status: 'permanent', response };
  return { status: 'temporary', response };
}

/**
 * IMAP APPEND has no reply codes, only response codes (RFC 5530). Those that name a passing state
 * of the server or mailbox are retried; any other NO or BAD refuses this message for good.
 */
const TEMPORARY_IMAP_CODES = new Set([
  'UNAVAILABLE',
  'INUSE',
  'SERVERBUG',
  'OVERQUOTA',
  // a refused login at the target is its configuration, not the message's fault
  'AUTHENTICATIONFAILED',
  'AUTHORIZATIONFAILED',
  'EXPIRED',
  'PRIVACYREQUIRED',
  'CONTACTADMIN',
]);

export function outcomeOfAppendFailure(
  failure: { serverResponse: true; responseCode: string | undefined; text: string } | { serverResponse: false; text: string },
  now = new Date(),
): RecipientOutcome {
  if (!failure.serverResponse) return { status: 'temporary', response: failure.text, unreachable: true };
  // an upload limit (Gmail: "Account exceeded bandwidth limits", [OVERQUOTA]) lifts by itself: the message waits for it
  const limit = providerBackoff(failure.text, failure.responseCode ?? null, now);
  if (limit) return { status: 'temporary', response: failure.text, retryAt: limit.until.toISOString() };
  const code = failure.responseCode?.toUpperCase();
  if (code && TEMPORARY_IMAP_CODES.has(code)) return { status: 'temporary', response: failure.text };
  return { status: 'permanent', response: failure.text };
}

const RETRY_MAX_MS = 30 * 60_000;

/** Wait before the next attempt of a held message after `attempts` failed ones: the base doubling, at most 30 min. */
export const deliveryRetryDelayMs = (attempts: number, baseMs: number): number =>
  Math.min(baseMs * 2 ** Math.max(0, attempts - 1), Math.max(RETRY_MAX_MS, baseMs));

/** When a held message is tried again: after the backoff, and not before any time a target asked for. */
export function nextAttemptAt(outcomes: readonly RecipientOutcome[], now: number, backoffMs: number): Date {
  const asked = outcomes.map((o) => (o.status === 'temporary' && o.retryAt ? Date.parse(o.retryAt) : 0));
  return new Date(Math.max(now + backoffMs, ...asked.filter((t) => Number.isFinite(t))));
}

/** What happens to a message once every recipient has an outcome. */
export type MessageDisposition = 'delivered' | 'held' | 'quarantined';

/** How long a target may keep answering "later" before the message goes to quarantine (as MTAs bounce). */
export const HOLD_LIMIT_DAYS = 5;
export const HOLD_LIMIT_MS = HOLD_LIMIT_DAYS * 24 * 60 * 60_000;

/**
 * Any temporary outcome holds the message for a retry, until it has been held for HOLD_LIMIT_MS;
 * otherwise any permanent one quarantines it.
 */
export function dispositionOf(outcomes: readonly RecipientOutcome[], heldSinceMs = 0): MessageDisposition {
  if (outcomes.some((o) => o.status === 'temporary')) return heldSinceMs >= HOLD_LIMIT_MS ? 'quarantined' : 'held';
  if (outcomes.some((o) => o.status === 'permanent')) return 'quarantined';
  return 'delivered';
}
