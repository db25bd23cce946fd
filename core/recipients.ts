import addressparser from 'nodemailer/lib/addressparser';
import type { HeaderField } from './headers';

export const DEFAULT_RECIPIENT_HEADERS = ['To', 'CC', 'X-RCPT-TO', 'X-Envelope-To', 'Received'] as const;

export interface RecipientOptions {
  /** deliver to the local accounts named in MIME headers (else everything goes to the owner) */
  enabled: boolean;
  /** header names to read; "Received" means the `for <addr>` clause of every Received header */
  headers: readonly string[];
}

const RECEIVED_FOR = /\bfor\s+<?([^\s<>;"]+@[^\s<>;"]+?)>?(?=[\s;]|$)/gi;

function addressesIn(value: string): string[] {
  const out: string[] = [];
  const walk = (entries: ReturnType<typeof addressparser>): void => {
    for (const entry of entries) {
      if ('group' in entry && entry.group) walk(entry.group);
      else if ('address' in entry && entry.address) out.push(entry.address);
    }
  };
  walk(addressparser(value));
  return out;
}

/** Every address the configured headers name, lower-cased, in order of first appearance. */
export function candidateAddresses(headers: readonly HeaderField[], options: RecipientOptions): string[] {
  if (!options.enabled) return [];
  const wanted = new Set(options.headers.map((h) => h.toLowerCase()));
  const found = new Set<string>();
  for (const field of headers) {
    if (!wanted.has(field.name)) continue;
    const addresses =
      field.name === 'received' ? [...field.value.matchAll(RECEIVED_FOR)].map((m) => m[1]) : addressesIn(field.value);
    for (const address of addresses) {
      if (address.includes('@')) found.add(address.trim().toLowerCase());
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
