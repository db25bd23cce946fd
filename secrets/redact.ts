export const REDACTED = '****';

// The arguments that carry credentials: POP3 PASS, APOP, AUTH <mech> <initial response>;
// IMAP <tag> LOGIN <user> <pass>, <tag> AUTHENTICATE <mech> <initial response>.
const CREDENTIAL_COMMAND = /^((?:\S+ )?(?:PASS|APOP|AUTH(?:ENTICATE)? \S+|LOGIN))( .*)$/i;

/** A protocol line as it may be logged: the credential arguments of a login command masked. */
export function redactCommand(line: string): string {
  return line.replace(CREDENTIAL_COMMAND, `$1 ${REDACTED}`);
}

/** Text with every occurrence of the given secret values masked (values under 4 characters are left: they would mask noise). */
export function redactValues(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
