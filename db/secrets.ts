import { MailpullError } from '../core/errors';
import { clientSecretBinding, type AppendSecretName, type BoundTokenEndpoint } from '../core/secret-binding';
import type { Keyring } from '../secrets/keyring';
import { open, seal, type SecretKey } from '../secrets/secret-box';
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
  /** whether each secret is bound to where it may be sent (bound_to, migration 019) */
  bound: boolean;
}
const ACCOUNT_SECRETS: SecretTable = {
  table: 'external_account_secrets',
  ownerColumn: 'external_account_id',
  owner: 'external_account',
  bound: true,
};
const TARGET_SECRETS: SecretTable = {
  table: 'delivery_target_secrets',
  ownerColumn: 'delivery_target_id',
  owner: 'delivery_target',
  bound: true,
};
const APPEND_SECRETS: SecretTable = { table: 'append_login_secrets', ownerColumn: 'account_id', owner: 'append_login', bound: true };
// a webhook's key signs what mailpull sends; it is never sent anywhere
const WEBHOOK_SECRETS: SecretTable = { table: 'webhook_secrets', ownerColumn: 'webhook_id', owner: 'webhook', bound: false };
// an installation's OAuth app: its client secret goes to the app's token endpoint only
const APP_SECRETS: SecretTable = { table: 'oauth_app_secrets', ownerColumn: 'provider', owner: 'oauth_app', bound: true };
const ALL_TABLES = [ACCOUNT_SECRETS, TARGET_SECRETS, APPEND_SECRETS, WEBHOOK_SECRETS, APP_SECRETS];

interface Row {
  owner_id: string;
  name: string;
  key_id: string;
  sealed: Buffer;
  bound_to: string | null;
  /** false for secrets sealed before migration 019: their binding is stored beside them, not yet sealed in */
  binding_sealed: boolean;
}

/**
 * The authenticated context of a seal: owner, name, and (once sealed with it) the binding, so a
 * binding changed in the database does not open.
 */
const context = (t: SecretTable, ownerId: string, name: string, binding: string | null): string =>
  `${t.owner}:${ownerId}:${name}${binding === null ? '' : `\0${binding}`}`;

const rowContext = (t: SecretTable, row: Row): string => context(t, row.owner_id, row.name, row.binding_sealed ? row.bound_to : null);

const selectRows = (t: SecretTable): string =>
  `SELECT ${t.ownerColumn} AS owner_id, name, key_id, sealed, ${t.bound ? 'bound_to, binding_sealed' : 'NULL AS bound_to, false AS binding_sealed'}
     FROM ${t.table}`;

const keyOf = (keyring: Keyring, t: SecretTable, row: Row): SecretKey => {
  const key = keyring.find(row.key_id);
  if (!key) {
    throw new MailpullError(
      'config',
      `the ${row.name} of this ${t.owner.replace('_', ' ')} is sealed with key ${row.key_id}, which is not among the configured keys ` +
        '(MAILPULL_SECRET_KEY / MAILPULL_SECRET_KEY_FILE)',
    );
  }
  return key;
};

/** The secret in clear, or null when its seal does not open in its context (its binding was changed). */
function openRow(keyring: Keyring, t: SecretTable, row: Row): string | null {
  if (row.key_id === PLAINTEXT) return row.sealed.toString('utf8');
  const key = keyOf(keyring, t, row);
  try {
    return open(key, row.sealed, rowContext(t, row));
  } catch {
    return null;
  }
}

/** `binding` names where each secret may be sent (bound tables only). */
async function saveIn(
  db: Queryable,
  keyring: Keyring,
  t: SecretTable,
  ownerId: string,
  secrets: Record<string, string | null | undefined>,
  binding: (name: string) => string | null,
) {
  const key = keyring.active();
  for (const [name, value] of Object.entries(secrets)) {
    if (value === undefined) continue;
    if (value === null) {
      await db.query(`DELETE FROM ${t.table} WHERE ${t.ownerColumn} = $1 AND name = $2`, [ownerId, name]);
      continue;
    }
    const bound = t.bound ? binding(name) : null;
    const sealed = seal(key, value, context(t, ownerId, name, bound));
    if (!t.bound) {
      await db.query(
        `INSERT INTO ${t.table} (${t.ownerColumn}, name, key_id, sealed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (${t.ownerColumn}, name) DO UPDATE SET key_id = $3, sealed = $4, updated_at = now()`,
        [ownerId, name, key.id, sealed],
      );
      continue;
    }
    await db.query(
      `INSERT INTO ${t.table} (${t.ownerColumn}, name, key_id, sealed, bound_to, binding_sealed) VALUES ($1, $2, $3, $4, $5, true)
       ON CONFLICT (${t.ownerColumn}, name) DO UPDATE SET key_id = $3, sealed = $4, bound_to = $5, binding_sealed = true, updated_at = now()`,
      [ownerId, name, key.id, sealed, bound],
    );
  }
}

/**
 * Opens the owner's secrets. With `expected` (bound tables), a secret whose binding is not the
 * expected one (the row points elsewhere than where it was given, or its binding was changed) is
 * not opened but named in `misbound`: it never leaves for another server.
 */
async function loadFrom(
  db: Queryable,
  keyring: Keyring,
  t: SecretTable,
  ownerId: string,
  expected: ((name: string) => string) | null,
): Promise<{ opened: Record<string, string>; misbound: string[] }> {
  const { rows } = await db.query<Row>(`${selectRows(t)} WHERE ${t.ownerColumn} = $1`, [ownerId]);
  const opened: Record<string, string> = {};
  const misbound: string[] = [];
  for (const row of rows) {
    const value = expected && row.bound_to !== expected(row.name) ? null : openRow(keyring, t, row);
    if (value === null) misbound.push(row.name);
    else opened[row.name] = value;
  }
  return { opened, misbound };
}

/** Seals and stores an external account's secrets, each bound to where it may be sent; a null removes one. */
export async function saveSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  secrets: Partial<Record<SecretName, string | null>>,
  binding: (name: SecretName) => string,
): Promise<void> {
  await saveIn(db, keyring, ACCOUNT_SECRETS, accountId, secrets, (name) => binding(name as SecretName));
}

/** An account's secrets that are bound to `binding`, opened; those bound elsewhere only named. */
export async function loadSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  binding: (name: SecretName) => string,
): Promise<{ secrets: Secrets; misbound: SecretName[] }> {
  const { opened, misbound } = await loadFrom(db, keyring, ACCOUNT_SECRETS, accountId, (name) => binding(name as SecretName));
  return { secrets: opened, misbound: misbound as SecretName[] };
}

/** Seals and stores a delivery target's password, bound to `binding`; null removes it. */
export async function saveTargetPassword(
  db: Queryable,
  keyring: Keyring,
  targetId: string,
  password: string | null,
  binding: string,
): Promise<void> {
  await saveIn(db, keyring, TARGET_SECRETS, targetId, { password }, () => binding);
}

/** A target's password if it is bound to `binding`; misbound when it was given for another server. */
export async function loadTargetPassword(
  db: Queryable,
  keyring: Keyring,
  targetId: string,
  binding: string,
): Promise<{ password: string | null; misbound: boolean }> {
  const { opened, misbound } = await loadFrom(db, keyring, TARGET_SECRETS, targetId, () => binding);
  return { password: opened.password ?? null, misbound: misbound.length > 0 };
}

/** The secrets of a local account's APPEND login (core/secret-binding.ts: AppendSecretName). */
export type AppendSecrets = Partial<Record<AppendSecretName, string>>;

/** Seals and stores a local account's APPEND login secrets, each bound to where it may be sent; a null removes one. */
export async function saveAppendSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  secrets: Partial<Record<AppendSecretName, string | null>>,
  binding: (name: AppendSecretName) => string,
): Promise<void> {
  await saveIn(db, keyring, APPEND_SECRETS, accountId, secrets, (name) => binding(name as AppendSecretName));
}

/** A local account's APPEND login secrets bound to `binding`, opened; those bound elsewhere only named. */
export async function loadAppendSecrets(
  db: Queryable,
  keyring: Keyring,
  accountId: string,
  binding: (name: AppendSecretName) => string,
): Promise<{ secrets: AppendSecrets; misbound: AppendSecretName[] }> {
  const { opened, misbound } = await loadFrom(db, keyring, APPEND_SECRETS, accountId, (name) => binding(name as AppendSecretName));
  return { secrets: opened, misbound: misbound as AppendSecretName[] };
}

/** Seals and stores an OAuth app's client secret, bound to its token endpoint and client id; null removes it. */
export async function saveAppClientSecret(
  db: Queryable,
  keyring: Keyring,
  provider: string,
  clientSecret: string | null,
  binding: string,
): Promise<void> {
  await saveIn(db, keyring, APP_SECRETS, provider, { client_secret: clientSecret }, () => binding);
}

/** An OAuth app's client secret if it is bound to `binding` (the token endpoint and client id it is about to go to). */
export async function loadAppClientSecret(db: Queryable, keyring: Keyring, provider: string, binding: string): Promise<string | null> {
  const { opened } = await loadFrom(db, keyring, APP_SECRETS, provider, () => binding);
  return opened.client_secret ?? null;
}

/**
 * The client secret a grant refreshes with: its own, else the installation app's, which is bound to
 * the same token endpoint and client id (a grant signed in through mailpull); none: a public client.
 */
export async function grantClientSecret(
  db: Queryable,
  keyring: Keyring,
  oauth: BoundTokenEndpoint & { provider: string },
  own: string | undefined,
): Promise<string | undefined> {
  return own ?? (await loadAppClientSecret(db, keyring, oauth.provider, clientSecretBinding(oauth))) ?? undefined;
}

/** Seals and stores the key a webhook's deliveries are signed with. */
export async function saveWebhookSecret(db: Queryable, keyring: Keyring, webhookId: string, secret: string): Promise<void> {
  await saveIn(db, keyring, WEBHOOK_SECRETS, webhookId, { signing_secret: secret }, () => null);
}

export async function loadWebhookSecret(db: Queryable, keyring: Keyring, webhookId: string): Promise<string> {
  const { opened, misbound } = await loadFrom(db, keyring, WEBHOOK_SECRETS, webhookId, null);
  if (misbound.length > 0) throw new MailpullError('config', `the signing secret of webhook ${webhookId} does not open: it was altered`);
  const secret = opened.signing_secret;
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
 * Re-seals under the active key every secret sealed with another key, or with its binding beside
 * it rather than in its seal (only those, and those carried over in clear, when `onlyLegacy`: what
 * every process does at start-up). Each keeps its binding. A row changed meanwhile is left to the
 * writer that changed it; one that does not open in its context (altered) is left as it is, with
 * its key.
 */
export async function resealSecrets(db: Queryable, keyring: Keyring, options: { onlyLegacy?: boolean } = {}): Promise<number> {
  const key = keyring.active();
  let resealed = 0;
  for (const t of ALL_TABLES) {
    const unsealedBinding = t.bound ? 'NOT binding_sealed' : 'false';
    const { rows } = await db.query<Row>(
      `${selectRows(t)} WHERE ${unsealedBinding} OR (key_id <> $1 AND ($2::boolean IS NOT TRUE OR key_id = $3))`,
      [key.id, options.onlyLegacy ?? false, PLAINTEXT],
    );
    for (const row of rows) {
      const value = openRow(keyring, t, row);
      if (value === null) continue;
      const sealed = seal(key, value, context(t, row.owner_id, row.name, row.bound_to));
      const { rowCount } = await db.query(
        `UPDATE ${t.table} SET key_id = $1, sealed = $2, ${t.bound ? 'binding_sealed = true, ' : ''}updated_at = now()
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
