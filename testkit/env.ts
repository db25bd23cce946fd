function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with "npm test", which starts the servers`);
  return value;
}

export const testEnv = {
  databaseUrl: () => required('MAILPULL_TEST_DATABASE_URL'),
  temporalAddress: () => required('MAILPULL_TEST_TEMPORAL_ADDRESS'),
  dovecotDir: () => required('MAILPULL_TEST_DOVECOT_DIR'),
  pop3Port: () => Number(required('DOVECOT_POP3_PORT')),
  pop3sPort: () => Number(required('DOVECOT_POP3S_PORT')),
  imapPort: () => Number(required('DOVECOT_IMAP_PORT')),
  imapsPort: () => Number(required('DOVECOT_IMAPS_PORT')),
  lmtpPort: () => Number(required('DOVECOT_LMTP_PORT')),
  /** where the test Dovecot asks whether an XOAUTH2 token is valid (OAuth2 introspection) */
  oauth2Port: () => Number(required('DOVECOT_OAUTH2_PORT')),
};

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
