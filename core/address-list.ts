import addressparser from 'nodemailer/lib/addressparser';

/** Characters of one header value handed to the address parser. */
export const MAX_ADDRESS_LIST_LENGTH = 64 * 1024;

/**
 * `value` cut to MAX_ADDRESS_LIST_LENGTH at the last list separator before the bound, so that
 * the address the bound falls into is dropped instead of read shortened to another address.
 */
function bounded(value: string): string {
  if (value.length <= MAX_ADDRESS_LIST_LENGTH) return value;
  const head = value.slice(0, MAX_ADDRESS_LIST_LENGTH);
  return head.slice(0, Math.max(head.lastIndexOf(','), head.lastIndexOf(';'), 0));
}

/** The addresses of an address-list header value, group members included, in order; reads at most MAX_ADDRESS_LIST_LENGTH of it. */
export function addressesIn(value: string): string[] {
  const out: string[] = [];
  const walk = (entries: ReturnType<typeof addressparser>): void => {
    for (const entry of entries) {
      if ('group' in entry && entry.group) walk(entry.group);
      else if ('address' in entry && entry.address) out.push(entry.address);
    }
  };
  walk(addressparser(bounded(value)));
  return out;
}
