import type { DeletePolicy } from '../core/delete-policy';
import type { FolderSelection } from '../core/folder-selection';
import type { ReceiveTimeSource } from '../core/receive-time';
import type { TlsMode } from '../core/tls-decision';
import type { SourceEndpoint } from '../mail/source';
import { tryLockAccountForTransaction } from './account-lock';
import type { Queryable } from './pool';

/** Where and how to log in, and what to do with the mail: everything but the password. */
export interface ExternalAccountSettings extends Omit<SourceEndpoint, 'password'> {
  ownerAccountId: string;
  name: string;
  enabled: boolean;
  intervalSeconds: number;
  deletePolicy: DeletePolicy;
  mimeRecipients: { enabled: boolean; headers: string[] };
  /** IMAP: recreate the remote folder path under the recipient's mailbox */
  mirrorFolders: boolean;
  /** IMAP: wait for new mail with IDLE between scheduled cycles */
  push: boolean;
  /** POP3: take the receive time from the newest Received header */
  receiveTime: ReceiveTimeSource;
  /** where mail goes whose MIME recipients resolve to nobody local (else the owner) */
  forwardToAccountId: string | null;
}

/** What is written: the settings and the password. */
export type ExternalAccountInput = ExternalAccountSettings & { password: string };

/** An external account as the API shows it: the password is never read back, only whether it is set. */
export type ExternalAccount = ExternalAccountSettings & { id: string; passwordSet: boolean; createdAt: Date; updatedAt: Date };

/** An account as the activities use it, password included. */
export type StoredExternalAccount = ExternalAccountInput & { id: string; deliveryGeneration: number };

interface Row {
  id: string;
  owner_account_id: string;
  name: string;
  enabled: boolean;
  protocol: 'pop3' | 'imap';
  host: string;
  port: number;
  tls_mode: TlsMode;
  tls_ca: string | null;
  allow_invalid_certificates: boolean;
  auth_method: 'password' | 'apop';
  folder_mode: FolderSelection['mode'];
  folder_names: string[];
  mirror_folders: boolean;
  push: boolean;
  receive_time: 'download' | 'received_header';
  forward_to_account_id: string | null;
  delivery_generation: number;
  username: string;
  password: string;
  interval_seconds: number;
  delete_policy: 'never' | 'immediately' | 'after_days';
  delete_after_days: number | null;
  mime_recipients: boolean;
  mime_headers: string[];
  created_at: Date;
  updated_at: Date;
}

function toPolicy(row: Row): DeletePolicy {
  if (row.delete_policy === 'after_days') return { mode: 'afterDays', days: row.delete_after_days ?? 0 };
  return { mode: row.delete_policy };
}

function policyColumns(policy: DeletePolicy): [string, number | null] {
  return policy.mode === 'afterDays' ? ['after_days', policy.days] : [policy.mode, null];
}

function toFolders(row: Row): FolderSelection {
  if (row.folder_mode === 'list') return { mode: 'list', names: row.folder_names };
  if (row.folder_mode === 'all') return { mode: 'all', exclude: row.folder_names };
  return { mode: 'inbox' };
}

const folderNames = (folders: FolderSelection): string[] =>
  folders.mode === 'list' ? folders.names : folders.mode === 'all' ? folders.exclude : [];

function toSettings(row: Row): ExternalAccountSettings {
  return {
    ownerAccountId: row.owner_account_id,
    name: row.name,
    enabled: row.enabled,
    protocol: row.protocol,
    host: row.host,
    port: row.port,
    tlsMode: row.tls_mode,
    tlsCa: row.tls_ca,
    allowInvalidCertificates: row.allow_invalid_certificates,
    authMethod: row.auth_method,
    folders: toFolders(row),
    username: row.username,
    intervalSeconds: row.interval_seconds,
    deletePolicy: toPolicy(row),
    mimeRecipients: { enabled: row.mime_recipients, headers: row.mime_headers },
    mirrorFolders: row.mirror_folders,
    push: row.push,
    receiveTime: row.receive_time === 'received_header' ? 'receivedHeader' : 'download',
    forwardToAccountId: row.forward_to_account_id,
  };
}

function toExternalAccount(row: Row): ExternalAccount {
  return {
    id: row.id,
    ...toSettings(row),
    passwordSet: row.password.length > 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const FIELDS = [
  'owner_account_id',
  'name',
  'enabled',
  'protocol',
  'host',
  'port',
  'tls_mode',
  'tls_ca',
  'username',
  'password',
  'interval_seconds',
  'delete_policy',
  'delete_after_days',
  'mime_recipients',
  'mime_headers',
  'allow_invalid_certificates',
  'auth_method',
  'folder_mode',
  'folder_names',
  'mirror_folders',
  'push',
  'receive_time',
  'forward_to_account_id',
] as const;

function values(input: ExternalAccountInput): unknown[] {
  const [policy, days] = policyColumns(input.deletePolicy);
  return [
    input.ownerAccountId,
    input.name,
    input.enabled,
    input.protocol,
    input.host,
    input.port,
    input.tlsMode,
    input.tlsCa,
    input.username,
    input.password,
    input.intervalSeconds,
    policy,
    days,
    input.mimeRecipients.enabled,
    input.mimeRecipients.headers,
    input.allowInvalidCertificates,
    input.authMethod,
    input.folders.mode,
    folderNames(input.folders),
    input.mirrorFolders,
    input.push,
    input.receiveTime === 'receivedHeader' ? 'received_header' : 'download',
    input.forwardToAccountId,
  ];
}

export async function insertExternalAccount(db: Queryable, input: ExternalAccountInput): Promise<ExternalAccount> {
  const placeholders = FIELDS.map((_, i) => `$${i + 1}`).join(', ');
  const { rows } = await db.query<Row>(
    `INSERT INTO external_accounts (${FIELDS.join(', ')}) VALUES (${placeholders}) RETURNING *`,
    values(input),
  );
  return toExternalAccount(rows[0]);
}

/** Replaces every field; the caller merges a partial update onto the stored account first. */
export async function updateExternalAccount(
  db: Queryable,
  id: string,
  input: ExternalAccountInput,
): Promise<ExternalAccount | null> {
  const assignments = FIELDS.map((f, i) => `${f} = $${i + 2}`).join(', ');
  const { rows } = await db.query<Row>(
    `UPDATE external_accounts SET ${assignments}, updated_at = now() WHERE id = $1 RETURNING *`,
    [id, ...values(input)],
  );
  return rows[0] ? toExternalAccount(rows[0]) : null;
}

export async function getExternalAccount(db: Queryable, id: string): Promise<ExternalAccount | null> {
  const row = (await db.query<Row>('SELECT * FROM external_accounts WHERE id = $1', [id])).rows[0];
  return row ? toExternalAccount(row) : null;
}

/** The account including its password, for merging updates and for logging in. */
export async function getStoredExternalAccount(db: Queryable, id: string): Promise<StoredExternalAccount | null> {
  const row = (await db.query<Row>('SELECT * FROM external_accounts WHERE id = $1', [id])).rows[0];
  return row ? { id: row.id, ...toSettings(row), password: row.password, deliveryGeneration: row.delivery_generation } : null;
}

export async function listExternalAccounts(db: Queryable, filter: { ownerAccountId?: string }): Promise<ExternalAccount[]> {
  const { rows } = await db.query<Row>(
    'SELECT * FROM external_accounts WHERE ($1::uuid IS NULL OR owner_account_id = $1) ORDER BY name, id',
    [filter.ownerAccountId ?? null],
  );
  return rows.map(toExternalAccount);
}

/** Ids of the external accounts whose owner is in the given domain or is the given account. */
export async function externalAccountIdsUnder(db: Queryable, scope: { domainId?: string; accountId?: string }): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT e.id FROM external_accounts e JOIN accounts a ON a.id = e.owner_account_id
      WHERE ($1::uuid IS NULL OR a.domain_id = $1) AND ($2::uuid IS NULL OR a.id = $2)`,
    [scope.domainId ?? null, scope.accountId ?? null],
  );
  return rows.map((r) => r.id);
}

export async function deleteExternalAccount(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM external_accounts WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

export type Activeness =
  | { state: 'gone' }
  | { state: 'inactive'; reason: string; intervalSeconds: number }
  | { state: 'active'; intervalSeconds: number; push: boolean };

/** Whether an account may collect now: it, its owner and the owner's domain must all be enabled. */
export async function loadActiveness(db: Queryable, id: string): Promise<Activeness> {
  const { rows } = await db.query<{ e: boolean; a: boolean; d: boolean; interval_seconds: number; push: boolean }>(
    `SELECT e.enabled AS e, a.enabled AS a, d.enabled AS d, e.interval_seconds, e.protocol = 'imap' AND e.push AS push
       FROM external_accounts e JOIN accounts a ON a.id = e.owner_account_id JOIN domains d ON d.id = a.domain_id
      WHERE e.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return { state: 'gone' };
  const reason = !row.e ? 'external account disabled' : !row.a ? 'owner account disabled' : !row.d ? 'owner domain disabled' : null;
  return reason
    ? { state: 'inactive', reason, intervalSeconds: row.interval_seconds }
    : { state: 'active', intervalSeconds: row.interval_seconds, push: row.push };
}

/**
 * Forgets every message mailpull has seen on the account's server, so the next cycle treats
 * them all as new. Copies already in the store still block delivering them again, unless
 * `force` starts a new delivery generation.
 */
export async function resetIndex(db: Queryable, id: string, force: boolean): Promise<number | 'busy'> {
  if (!(await tryLockAccountForTransaction(db, id))) return 'busy';
  const { rowCount } = await db.query('DELETE FROM uid_index WHERE external_account_id = $1', [id]);
  await db.query('DELETE FROM folder_state WHERE external_account_id = $1', [id]);
  if (force) await db.query('UPDATE external_accounts SET delivery_generation = delivery_generation + 1 WHERE id = $1', [id]);
  return rowCount ?? 0;
}
