import { MailpullError } from '../core/errors';
import type { Keyring } from '../secrets/keyring';
import { open, seal } from '../secrets/secret-box';
import type { Queryable } from './pool';

export const SECRET_NAMES = ['password', 'oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/** Rows carried over from before secrets were encrypted (migration 003) */
const PLAINTEXT = 'plaintext';

const context = (accountId: string, name: SecretName): string => `external_account:${accountId}:${name}`;

interface Row {
  external_account_id: string;
  name: SecretName;
  key_id: string;
  sealed: Buffer;
}

function openRow(keyring: Keyring, row: Row): string {
  if (row.key_id === PLAINTEXT) return row.sealed.toString('utf8');
  const key = keyring.find(row.key_id);
  if (!key) {
    throw new MailpullError(
      'config',
      `the ${row.name} of this account is sealed with key ${row.key_id}, which is not among the configured keys ` +
        '(MAILPULL_SECRET_KEY / MAILPULL_SECRET_KEY_FILE)',
    );
  }
  return open(key, row.sealed, context(row.external_account_id, row.name));
}

/** Seals and stores secrets; a null removes one. */
export async function saveSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  secrets: Partial<Record<SecretName, string | null>>,
): Promise<void> {
  const key = keyring.active();
  for (const name of SECRET_NAMES) {
    const value = secrets[name];
    if (value === undefined) continue;
    if (value === null) {
      await db.query('DELETE FROM external_account_secrets WHERE external_account_id = $1 AND name = $2', [accountId, name]);
      continue;
    }
    await db.query(
      `INSERT INTO external_account_secrets (external_account_id, name, key_id, sealed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (external_account_id, name) DO UPDATE SET key_id = $3, sealed = $4, updated_at = now()`,
      [accountId, name, key.id, seal(key, value, context(accountId, name))],
    );
  }
}

export async function loadSecrets(db: Queryable, keyring: Keyring, accountId: string): Promise<Secrets> {
  const { rows } = await db.query<Row>('SELECT * FROM external_account_secrets WHERE external_account_id = $1', [accountId]);
  return Object.fromEntries(rows.map((row) => [row.name, openRow(keyring, row)]));
}

/** Which secrets each account has, without opening any: what the API shows. */
export async function secretsSet(db: Queryable, accountIds: readonly string[]): Promise<Map<string, Set<SecretName>>> {
  const { rows } = await db.query<Pick<Row, 'external_account_id' | 'name'>>(
    'SELECT external_account_id, name FROM external_account_secrets WHERE external_account_id = ANY($1::uuid[])',
    [accountIds],
  );
  const set = new Map<string, Set<SecretName>>(accountIds.map((id) => [id, new Set()]));
  for (const row of rows) set.get(row.external_account_id)?.add(row.name);
  return set;
}

/**
 * Re-seals under the active key every secret sealed with another key (or carried over in clear
 * when `onlyPlaintext`). A row changed meanwhile is left to the writer that changed it.
 */
export async function resealSecrets(db: Queryable, keyring: Keyring, options: { onlyPlaintext?: boolean } = {}): Promise<number> {
  const key = keyring.active();
  const { rows } = await db.query<Row>(
    'SELECT * FROM external_account_secrets WHERE key_id <> $1 AND ($2::boolean IS NOT TRUE OR key_id = $3)',
    [key.id, options.onlyPlaintext ?? false, PLAINTEXT],
  );
  let resealed = 0;
  for (const row of rows) {
    const sealed = seal(key, openRow(keyring, row), context(row.external_account_id, row.name));
    const { rowCount } = await db.query(
      `UPDATE external_account_secrets SET key_id = $1, sealed = $2, updated_at = now()
        WHERE external_account_id = $3 AND name = $4 AND key_id = $5 AND sealed = $6`,
      [key.id, sealed, row.external_account_id, row.name, row.key_id, row.sealed],
    );
    resealed += rowCount ?? 0;
  }
  return resealed;
}

/** How many secrets each key id seals: what the rotate command reports. */
export async function secretsByKey(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<{ key_id: string; n: number }>(
    'SELECT key_id, count(*)::int AS n FROM external_account_secrets GROUP BY key_id ORDER BY key_id',
  );
  return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
}
