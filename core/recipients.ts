import { addressesIn } from './address-list';
import { utf8Text, type HeaderField } from './headers';
import { receivedForAddresses } from './received-for';

export { DEFAULT_RECIPIENT_HEADERS } from './recipient-headers';

/** Candidate addresses read from one message at most; the first ones in header order are kept. */
export const MAX_CANDIDATES = 1_000;
/** Longest address taken as a candidate (RFC 5321's path limit less the angle brackets). */
export const MAX_ADDRESS_LENGTH = 254;

export interface RecipientOptions {
  /** deliver to the local accounts named in MIME headers (else everything goes to the owner) */
  enabled: boolean;
  /** header names to read; "Received" means the `for <addr>` clause of every Received header */
  headers: readonly string[];
  /** deliver to local accounts of every local domain; else only to those of the owner's domain */
  allDomains: boolean;
}

/**
 * Which local domain MIME recipients may be in (null: any): the owner's, unless the account allows
 * every domain, so one domain's users cannot route mail into another's mailboxes (IceWarp's
 * "Domain POP").
 */
export const recipientDomainScope = (options: Pick<RecipientOptions, 'allDomains'>, ownerDomainId: string): string | null =>
  options.allDomains ? null : ownerDomainId;

/** An address worth looking up: has an '@', fits a mail path, no control characters (NUL breaks Postgres text). */
function plausibleAddress(address: string): boolean {
  if (address.length > MAX_ADDRESS_LENGTH || !address.includes('@')) return false;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return true;
}

/**
 * Every address the configured headers name, lower-cased, in order of first appearance, at
 * most MAX_CANDIDATES of them; an address in UTF-8 (RFC 6532) as the text it spells.
 */
export function candidateAddresses(headers: readonly HeaderField[], options: Pick<RecipientOptions, 'enabled' | 'headers'>): string[] {
  if (!options.enabled) return [];
  const wanted = new Set(options.headers.map((h) => h.toLowerCase()));
  const found = new Set<string>();
  for (const field of headers) {
    if (!wanted.has(field.name)) continue;
    // read as UTF-8 when it is (an address may be, RFC 6532); else each address on its own, since
    // raw 8-bit bytes in a display name or comment must not hide the address next to them
    const utf8 = utf8Text(field.value);
    const value = utf8 ?? field.value;
    const addresses = field.name === 'received' ? receivedForAddresses(value, MAX_CANDIDATES) : addressesIn(value);
    for (const address of addresses) {
      const candidate = (utf8 === null ? (utf8Text(address) ?? address) : address).trim().toLowerCase();
      if (!plausibleAddress(candidate)) continue;
      found.add(candidate);
      if (found.size >= MAX_CANDIDATES) return [...found];
    }
  }
  return [...found];
}

/**
 * The local accounts that receive a message: the candidates that are existing, enabled local
 * accounts (looked up by the caller), deduplicated; nobody left → the fallback (the owner).
 * Never returns anything that is not a local account id.
 */
export function chooseRecipients(
  candidates: readonly string[],
  localAccountIdByAddress: ReadonlyMap<string, string>,
  fallbackAccountId: string,
): string[] {
  const ids = new Set<string>();
  for (const address of candidates) {
    const id = localAccountIdByAddress.get(address);
    if (id) ids.add(id);
  }
  return ids.size > 0 ? [...ids] : [fallbackAccountId];
}
