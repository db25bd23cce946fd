import { MailpullError } from '../core/errors';
import type { Keyring } from '../secrets/keyring';
import { open, seal } from '../secrets/secret-box';
import type { Queryable } from './pool';

export const SECRET_NAMES = ['password', 'oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/** Rows carried over from before secrets were encrypted (migration 003) */
const PLAINTEXT = 'plaintext';

/** The tables that hold sealed secrets, each owned by one kind of row. */
interface SecretTable {
  table: string;
  ownerColumn: string;
  /** what the secret belongs to, in error messages and in the sealing context */
  owner: string;
}
const ACCOUNT_SECRETS: SecretTable = { table: 'external_account_secrets', ownerColumn: 'external_account_id', owner: 'external_account' };
const TARGET_SECRETS: SecretTable = { table: 'delivery_target_secrets', ownerColumn: 'delivery_target_id', owner: 'delivery_target' };
const WEBHOOK_SECRETS: SecretTable = { table: 'webhook_secrets', ownerColumn: 'webhook_id', owner: 'webhook' };
const ALL_TABLES = [ACCOUNT_SECRETS, TARGET_SECRETS, WEBHOOK_SECRETS];

const context = (t: SecretTable, ownerId: string, name: string): string => `${t.owner}:${ownerId}:${name}`;

interface Row {
  owner_id: string;
  name: string;
  key_id: string;
  sealed: Buffer;
}

const selectRows = (t: SecretTable): string => `SELECT ${t.ownerColumn} AS owner_id, name, key_id, sealed FROM ${t.table}`;

function openRow(keyring: Keyring, t: SecretTable, row: Row): string {
  if (row.key_id === PLAINTEXT) return row.sealed.toString('utf8');
  const key = keyring.find(row.key_id);
  if (!key) {
    throw new MailpullError(
      'config',
      `the ${row.name} of this ${t.owner.replace('_', ' ')} is sealed with key ${row.key_id}, which is not among the configured keys ` +
        '(MAILPULL_SECRET_KEY / MAILPULL_SECRET_KEY_FILE)',
    );
  }
  return open(key, row.sealed, context(t, row.owner_id, row.name));
}

async function saveIn(
  db: Queryable,
  keyring: Keyring,
  t: SecretTable,
  ownerId: string,
  secrets: Record<string, string | null | undefined>,
) {
  const key = keyring.active();
  for (const [name, value] of Object.entries(secrets)) {
    if (value === undefined) continue;
    if (value === null) {
      await db.query(`DELETE FROM ${t.table} WHERE ${t.ownerColumn} = $1 AND name = $2`, [ownerId, name]);
      continue;
    }
    await db.query(
      `INSERT INTO ${t.table} (${t.ownerColumn}, name, key_id, sealed) VALUES ($1, $2, $3, $4)
       ON CONFLICT (${t.ownerColumn}, name) DO UPDATE SET key_id = $3, sealed = $4, updated_at = now()`,
      [ownerId, name, key.id, seal(key, value, context(t, ownerId, name))],
    );
  }
}

async function loadFrom(db: Queryable, keyring: Keyring, t: SecretTable, ownerId: string): Promise<Record<string, string>> {
  const { rows } = await db.query<Row>(`${selectRows(t)} WHERE ${t.ownerColumn} = $1`, [ownerId]);
  return Object.fromEntries(rows.map((row) => [row.name, openRow(keyring, t, row)]));
}

/** Seals and stores an external account's secrets; a null removes one. */
export async function saveSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  secrets: Partial<Record<SecretName, string | null>>,
): Promise<void> {
  await saveIn(db, keyring, ACCOUNT_SECRETS, accountId, secrets);
}

export async function loadSecrets(db: Queryable, keyring: Keyring, accountId: string): Promise<Secrets> {
  return loadFrom(db, keyring, ACCOUNT_SECRETS, accountId);
}

/** Seals and stores a delivery target's password; null removes it. */
export async function saveTargetPassword(db: Queryable, keyring: Keyring, targetId: string, password: string | null): Promise<void> {
  await saveIn(db, keyring, TARGET_SECRETS, targetId, { password });
}

export async function loadTargetPassword(db: Queryable, keyring: Keyring, targetId: string): Promise<string | null> {
  return (await loadFrom(db, keyring, TARGET_SECRETS, targetId)).password ?? null;
}

/** Seals and stores the key a webhook's deliveries are signed with. */
export async function saveWebhookSecret(db: Queryable, keyring: Keyring, webhookId: string, secret: string): Promise<void> {
  await saveIn(db, keyring, WEBHOOK_SECRETS, webhookId, { signing_secret: secret });
}

export async function loadWebhookSecret(db: Queryable, keyring: Keyring, webhookId: string): Promise<string> {
  const secret = (await loadFrom(db, keyring, WEBHOOK_SECRETS, webhookId)).signing_secret;
  if (secret === undefined) throw new MailpullError('config', `webhook ${webhookId} has no signing secret`);
  return secret;
}

/** Which secrets each account has, without opening any: what the API shows. */
export async function secretsSet(db: Queryable, accountIds: readonly string[]): Promise<Map<string, Set<SecretName>>> {
  const { rows } = await db.query<{ owner_id: string; name: SecretName }>(
    'SELECT external_account_id AS owner_id, name FROM external_account_secrets WHERE external_account_id = ANY($1::uuid[])',
    [accountIds],
  );
  const set = new Map<string, Set<SecretName>>(accountIds.map((id) => [id, new Set()]));
  for (const row of rows) set.get(row.owner_id)?.add(row.name);
  return set;
}

/**
 * Re-seals under the active key every secret sealed with another key (or carried over in clear
 * when `onlyPlaintext`). A row changed meanwhile is left to the writer that changed it.
 */
export async function resealSecrets(db: Queryable, keyring: Keyring, options: { onlyPlaintext?: boolean } = {}): Promise<number> {
  const key = keyring.active();
  let resealed = 0;
  for (const t of ALL_TABLES) {
    const { rows } = await db.query<Row>(`${selectRows(t)} WHERE key_id <> $1 AND ($2::boolean IS NOT TRUE OR key_id = $3)`, [
      key.id,
      options.onlyPlaintext ?? false,
      PLAINTEXT,
    ]);
    for (const row of rows) {
      const sealed = seal(key, openRow(keyring, t, row), context(t, row.owner_id, row.name));
      const { rowCount } = await db.query(
        `UPDATE ${t.table} SET key_id = $1, sealed = $2, updated_at = now()
          WHERE ${t.ownerColumn} = $3 AND name = $4 AND key_id = $5 AND sealed = $6`,
        [key.id, sealed, row.owner_id, row.name, row.key_id, row.sealed],
      );
      resealed += rowCount ?? 0;
    }
  }
  return resealed;
}

/** How many secrets each key id seals: what the rotate command reports. */
export async function secretsByKey(db: Queryable): Promise<Record<string, number>> {
  const union = ALL_TABLES.map((t) => `SELECT key_id FROM ${t.table}`).join(' UNION ALL ');
  const { rows } = await db.query<{ key_id: string; n: number }>(
    `SELECT key_id, count(*)::int AS n FROM (${union}) s GROUP BY key_id ORDER BY key_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
}
