import { formatIp, parseIp } from './network-policy';

/**
 * The key a client's failed authentications are counted under: an IPv4 address, or the /64 an
 * IPv6 address is in (one host usually holds a whole /64, so counting single addresses would let
 * it try without limit). Anything else is counted as itself.
 */
export function clientKey(address: string): string {
  const bytes = parseIp(address);
  if (!bytes) return address;
  const text = formatIp(bytes);
  if (!text.includes(':')) return text;
  bytes.fill(0, 8);
  return `${formatIp(bytes)}/64`;
}
