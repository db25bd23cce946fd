import { addressesIn } from './address-list';
import type { HeaderField } from './headers';

/** Longest envelope sender taken (RFC 5321's path limit less the angle brackets). */
export const MAX_ENVELOPE_SENDER_LENGTH = 254;

/** RFC 5322 specials other than the dot: never part of an atom. */
const SPECIALS = '"(),:;<>@[\\]';

/** The characters of an addr-spec's atoms and dots: printable ASCII without space and specials. */
function isAtomOrDotCode(code: number): boolean {
  return code > 0x20 && code < 0x7f && !SPECIALS.includes(String.fromCharCode(code));
}

/** Only a plain addr-spec may go into MAIL FROM: atom and dot characters, one '@' with some on both sides. */
function isPlainAddrSpec(address: string): boolean {
  if (address.length > MAX_ENVELOPE_SENDER_LENGTH) return false;
  const at = address.indexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  for (let i = 0; i < address.length; i++) {
    if (i !== at && !isAtomOrDotCode(address.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * The inside of a Return-Path written as `<addr-spec>` (trimmed), or null if it has another
 * shape: only a server writes it, and anything else is not trusted.
 */
function returnPathInside(value: string): string | null {
  const path = value.trim();
  if (path.length < 2 || !path.startsWith('<') || !path.endsWith('>')) return null;
  const inside = path.slice(1, -1);
  return inside.includes('<') || inside.includes('>') ? null : inside.trim();
}

/**
 * The envelope sender (MAIL FROM) for a collected message: the Return-Path the remote server
 * recorded, else the From address, else the null sender `<>` (returned as ''). A Return-Path of
 * `<>` is a bounce and stays the null sender.
 */
export function envelopeSender(headers: readonly HeaderField[]): string {
  const returnPath = headers.find((h) => h.name === 'return-path');
  const path = returnPath ? returnPathInside(returnPath.value) : null;
  if (path === '') return '';
  if (path !== null && isPlainAddrSpec(path)) return path;
  const from = headers.find((h) => h.name === 'from');
  return (from && addressesIn(from.value).find(isPlainAddrSpec)) ?? '';
}
