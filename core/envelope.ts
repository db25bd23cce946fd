import addressparser from 'nodemailer/lib/addressparser';
import type { HeaderField } from './headers';

/** Only a plain addr-spec may go into MAIL FROM: printable ASCII without spaces or specials. */
const ADDR_SPEC = /^[!#-'*+\-./0-9=?A-Z^-~]+@[!#-'*+\-./0-9=?A-Z^-~]+$/;

function firstAddress(value: string): string | null {
  for (const entry of addressparser(value)) {
    if ('address' in entry && entry.address && ADDR_SPEC.test(entry.address)) return entry.address;
  }
  return null;
}

/**
 * The envelope sender (MAIL FROM) for a collected message: the Return-Path the remote server
 * recorded, else the From address, else the null sender `<>` (returned as ''). A Return-Path of
 * `<>` is a bounce and stays the null sender.
 */
export function envelopeSender(headers: readonly HeaderField[]): string {
  const returnPath = headers.find((h) => h.name === 'return-path');
  // Return-Path is written by a server as <addr-spec>; anything else is not trusted
  const path = returnPath && /^<\s*([^<>]*?)\s*>$/.exec(returnPath.value.trim());
  if (path && path[1] === '') return '';
  if (path && ADDR_SPEC.test(path[1])) return path[1];
  const from = headers.find((h) => h.name === 'from');
  return (from && firstAddress(from.value)) ?? '';
}
