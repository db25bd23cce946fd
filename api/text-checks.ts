/*
 * Checks of request text that run in one pass: no regular expression with nested or adjacent
 * quantifiers over the same characters, whose backtracking grows with the input. The schemas
 * bound each string's length before any of these runs.
 */

const LABEL_INNER = /[^a-zA-Z0-9-]/;
const ALNUM = /^[a-zA-Z0-9]$/;

/** A DNS label: 1 to 63 letters, digits or hyphens, a letter or digit at each end. */
function isLabel(label: string): boolean {
  return label.length >= 1 && label.length <= 63 && !LABEL_INNER.test(label) && ALNUM.test(label[0]) && ALNUM.test(label.at(-1) ?? '');
}

const NOT_IP_CHAR = /[^0-9a-fA-F:.]/;

/** A host name of one or more labels, or what may be an IP address (hex digits, colons, dots). */
export function isHost(text: string): boolean {
  if (text.length === 0) return false;
  if (!NOT_IP_CHAR.test(text)) return true;
  return text.split('.').every(isLabel);
}

/** A domain name like example.com: at least two labels, the last of 2 to 63 letters, digits or hyphens; 253 characters at most. */
export function isDomainName(text: string): boolean {
  if (text.length > 253) return false;
  const labels = text.split('.');
  const top = labels.pop() ?? '';
  return labels.length >= 1 && labels.every(isLabel) && top.length >= 2 && top.length <= 63 && !LABEL_INNER.test(top);
}

// white space, and what separates or quotes addresses in a header
const NOT_IN_ADDRESS = /[\s@<>()",;:\\[\]]/;

/** An e-mail address like user@example.com: one @, a dot inside the domain part, nothing that quotes or separates addresses. */
export function isAddress(text: string): boolean {
  const at = text.indexOf('@');
  if (at <= 0) return false;
  const local = text.slice(0, at);
  const domain = text.slice(at + 1);
  if (NOT_IN_ADDRESS.test(local) || NOT_IN_ADDRESS.test(domain)) return false;
  const dot = domain.indexOf('.', 1);
  return dot > 0 && dot < domain.length - 1;
}
