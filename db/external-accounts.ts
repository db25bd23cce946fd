import type { AccountLabels, AccountState } from '../core/account-state';
import type { AccountStatus } from '../core/account-status';
import type { DeletePolicy } from '../core/delete-policy';
import type { DeliveryChoice } from '../core/delivery-routing';
import type { OAuthProvider, OAuthSettings } from '../core/oauth';
import type { FolderSelection } from '../core/folder-selection';
import type { ReceiveTimeSource } from '../core/receive-time';
import { accountSecretBinding } from '../core/secret-binding';
import type { TlsMode } from '../core/tls-decision';
import { inDomains, type DomainScope } from './domain-scope';
import type { Queryable } from './pool';
import { loadSecrets, secretsSet, type SecretName, type Secrets } from './secrets';
import type { Keyring } from '../secrets/keyring';
import type { MailboxEndpoint } from '../core/mailbox-endpoint';

/** Where and how to log in, and what to do with the mail: everything but the secrets. */
export interface ExternalAccountSettings extends Omit<MailboxEndpoint, 'secret' | 'maxMessageBytes'> {
  /** the account's own size limit; null: the global MAILPULL_MAX_MESSAGE_BYTES */
  maxMessageBytes: number | null;
  ownerAccountId: string;
  name: string;
  enabled: boolean;
  intervalSeconds: number;
  deletePolicy: DeletePolicy;
  mimeRecipients: { enabled: boolean; headers: string[]; allDomains: boolean };
  /** IMAP: recreate the remote folder path under the recipient's mailbox */
  mirrorFolders: boolean;
  /** IMAP: wait for new mail with IDLE between scheduled cycles */
  push: boolean;
  /** POP3: take the receive time from the newest Received header */
  receiveTime: ReceiveTimeSource;
  /** where mail goes whose MIME recipients resolve to nobody local (else the owner) */
  forwardToAccountId: string | null;
  /** set exactly when authMethod is xoauth2 */
  oauth: OAuthSettings | null;
  /** the recipients' domains choose the delivery target, or the account overrides them */
  delivery: DeliveryChoice;
}

/** What the API shows: secrets are never read back, only which ones are set. */
export type ExternalAccount = ExternalAccountSettings & {
  id: string;
  secretsSet: SecretName[];
  oauthAccessExpiresAt: Date | null;
  /** why no login is tried until a new refresh token is set (the provider answered invalid_grant) */
  reauthorizationReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

/** An account as the activities use it, secrets opened. */
export type StoredExternalAccount = ExternalAccountSettings & {
  id: string;
  deliveryGeneration: number;
  secrets: Secrets;
  /** secrets given for other settings than these (changed behind the API's back): never used */
  misboundSecrets: SecretName[];
  oauthAccessExpiresAt: Date | null;
  reauthorizationReason: string | null;
};

/** Where a secret of an account with these settings may be sent (core/secret-binding.ts). */
export const secretBinding = (settings: ExternalAccountSettings, name: SecretName): string =>
  accountSecretBinding(name, settings, settings.oauth);

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
  auth_method: 'password' | 'apop' | 'xoauth2';
  folder_mode: FolderSelection['mode'];
  folder_names: string[];
  mirror_folders: boolean;
  push: boolean;
  receive_time: 'download' | 'received_header';
  forward_to_account_id: string | null;
  delivery_generation: number;
  username: string;
  oauth_provider: OAuthProvider | null;
  oauth_token_endpoint: string | null;
  oauth_client_id: string | null;
  oauth_scope: string | null;
  oauth_access_expires_at: Date | null;
  reauthorization_reason: string | null;
  delivery: 'domain' | 'store' | 'target';
  delivery_target_id: string | null;
  interval_seconds: number;
  delete_policy: 'never' | 'immediately' | 'after_days';
  delete_after_days: number | null;
  mime_recipients: boolean;
  mime_headers: string[];
  mime_all_domains: boolean;
  max_message_bytes: string | null;
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
    maxMessageBytes: row.max_message_bytes === null ? null : Number(row.max_message_bytes),
    intervalSeconds: row.interval_seconds,
    deletePolicy: toPolicy(row),
    mimeRecipients: { enabled: row.mime_recipients, headers: row.mime_headers, allDomains: row.mime_all_domains },
    mirrorFolders: row.mirror_folders,
    push: row.push,
    receiveTime: row.receive_time === 'received_header' ? 'receivedHeader' : 'download',
    forwardToAccountId: row.forward_to_account_id,
    oauth:
      row.oauth_provider && row.oauth_token_endpoint && row.oauth_client_id
        ? { provider: row.oauth_provider, tokenEndpoint: row.oauth_token_endpoint, clientId: row.oauth_client_id, scope: row.oauth_scope }
        : null,
    delivery:
      row.delivery === 'target' && row.delivery_target_id
        ? { mode: 'target', targetId: row.delivery_target_id }
        : { mode: row.delivery === 'store' ? 'store' : 'domain' },
  };
}

function toExternalAccount(row: Row, secrets: ReadonlySet<SecretName> | undefined): ExternalAccount {
  return {
    id: row.id,
    ...toSettings(row),
    secretsSet: [...(secrets ?? [])].sort(),
    oauthAccessExpiresAt: row.oauth_access_expires_at,
    reauthorizationReason: row.reauthorization_reason,
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
  'interval_seconds',
  'delete_policy',
  'delete_after_days',
  'mime_recipients',
  'mime_headers',
  'mime_all_domains',
  'allow_invalid_certificates',
  'auth_method',
  'folder_mode',
  'folder_names',
  'mirror_folders',
  'push',
  'receive_time',
  'forward_to_account_id',
  'oauth_provider',
  'oauth_token_endpoint',
  'oauth_client_id',
  'oauth_scope',
  'delivery',
  'delivery_target_id',
  'max_message_bytes',
] as const;

function values(input: ExternalAccountSettings): unknown[] {
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
    input.intervalSeconds,
    policy,
    days,
    input.mimeRecipients.enabled,
    input.mimeRecipients.headers,
    input.mimeRecipients.allDomains,
    input.allowInvalidCertificates,
    input.authMethod,
    input.folders.mode,
    folderNames(input.folders),
    input.mirrorFolders,
    input.push,
    input.receiveTime === 'receivedHeader' ? 'received_header' : 'download',
    input.forwardToAccountId,
    input.oauth?.provider ?? null,
    input.oauth?.tokenEndpoint ?? null,
    input.oauth?.clientId ?? null,
    input.oauth?.scope ?? null,
    input.delivery.mode,
    input.delivery.mode === 'target' ? input.delivery.targetId : null,
    input.maxMessageBytes,
  ];
}

async function withSecretsSet(db: Queryable, rows: Row[]): Promise<ExternalAccount[]> {
  const set = await secretsSet(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((row) => toExternalAccount(row, set.get(row.id)));
}

/** Inserts the settings; the caller saves the secrets in the same transaction. */
export async function insertExternalAccount(db: Queryable, input: ExternalAccountSettings): Promise<string> {
  const placeholders = FIELDS.map((_, i) => `$${i + 1}`).join(', ');
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO external_accounts (${FIELDS.join(', ')}) VALUES (${placeholders}) RETURNING id`,
    values(input),
  );
  return rows[0].id;
}

/** Replaces every field; the caller merges a partial update onto the stored account first. */
export async function updateExternalAccount(db: Queryable, id: string, input: ExternalAccountSettings): Promise<boolean> {
  const assignments = FIELDS.map((f, i) => `${f} = $${i + 2}`).join(', ');
  const { rowCount } = await db.query(`UPDATE external_accounts SET ${assignments}, updated_at = now() WHERE id = $1`, [
    id,
    ...values(input),
  ]);
  return (rowCount ?? 0) > 0;
}

export async function getExternalAccount(db: Queryable, id: string): Promise<ExternalAccount | null> {
  const { rows } = await db.query<Row>('SELECT * FROM external_accounts WHERE id = $1', [id]);
  return (await withSecretsSet(db, rows))[0] ?? null;
}

async function storedFrom(db: Queryable, keyring: Keyring, row: Row): Promise<StoredExternalAccount> {
  const settings = toSettings(row);
  const { secrets, misbound } = await loadSecrets(db, keyring, row.id, (name) => secretBinding(settings, name));
  return {
    id: row.id,
    ...settings,
    deliveryGeneration: row.delivery_generation,
    secrets,
    misboundSecrets: misbound,
    oauthAccessExpiresAt: row.oauth_access_expires_at,
    reauthorizationReason: row.reauthorization_reason,
  };
}

/** The account with its secrets opened, for logging in. */
export async function getStoredExternalAccount(db: Queryable, keyring: Keyring, id: string): Promise<StoredExternalAccount | null> {
  const row = (await db.query<Row>('SELECT * FROM external_accounts WHERE id = $1', [id])).rows[0];
  return row ? storedFrom(db, keyring, row) : null;
}

/** The settings alone, for merging an update onto them. */
export async function getExternalAccountSettings(db: Queryable, id: string): Promise<ExternalAccountSettings | null> {
  const row = (await db.query<Row>('SELECT * FROM external_accounts WHERE id = $1', [id])).rows[0];
  return row ? toSettings(row) : null;
}

/** A new access token's expiry; the token itself is saved with saveSecrets. */
export async function setAccessExpiry(db: Queryable, id: string, expiresAt: Date | null): Promise<void> {
  await db.query('UPDATE external_accounts SET oauth_access_expires_at = $2 WHERE id = $1', [id, expiresAt]);
}

/** invalid_grant: no login until a new refresh token clears it (null). */
export async function setReauthorization(db: Queryable, id: string, reason: string | null): Promise<void> {
  await db.query('UPDATE external_accounts SET reauthorization_reason = $2, updated_at = now() WHERE id = $1', [id, reason]);
}

/** What the account's workflow reported last (db/account-status.ts); null before its first report. */
export interface RecordedStatus {
  state: AccountState;
  status: AccountStatus;
  at: Date;
}

export interface ExternalAccountFilter {
  ownerAccountId?: string;
  scope: DomainScope;
  /** 'new': no report yet */
  state?: AccountState | 'new';
  /** the last account of the page before, in the list's order (name, id) */
  after?: { name: string; id: string };
  limit: number;
}

/** One page of the external accounts, by name, each with its recorded status: one query for any number. */
export async function listExternalAccounts(
  db: Queryable,
  filter: ExternalAccountFilter,
): Promise<{ accounts: { account: ExternalAccount; recorded: RecordedStatus | null }[]; more: boolean }> {
  const { rows } = await db.query<
    Row & { recorded_state: AccountState | null; recorded_status: AccountStatus | null; recorded_at: Date | null }
  >(
    `SELECT e.*, s.state AS recorded_state, s.status AS recorded_status, s.updated_at AS recorded_at
       FROM external_accounts e LEFT JOIN account_status s ON s.external_account_id = e.id
      WHERE ($1::uuid IS NULL OR e.owner_account_id = $1) AND ${inDomains('externalAccount', 'e', '$2')}
        AND ($3::text IS NULL OR coalesce(s.state, 'new') = $3)
        AND ($4::text IS NULL OR (e.name, e.id) > ($4::text, $5::uuid))
      ORDER BY e.name, e.id LIMIT $6`,
    [
      filter.ownerAccountId ?? null,
      filter.scope,
      filter.state ?? null,
      filter.after?.name ?? null,
      filter.after?.id ?? null,
      filter.limit + 1,
    ],
  );
  const page = rows.slice(0, filter.limit);
  const accounts = await withSecretsSet(db, page);
  return {
    accounts: accounts.map((account, i) => {
      const r = page[i];
      return {
        account,
        recorded:
          r.recorded_state && r.recorded_status && r.recorded_at
            ? { state: r.recorded_state, status: r.recorded_status, at: r.recorded_at }
            : null,
      };
    }),
    more: rows.length > filter.limit,
  };
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

/**
 * `labels` name the account in the Temporal UI. Results recorded in workflow histories before they
 * existed have none, and Temporal's time-skipping test server cannot register search attributes,
 * so the workflow tier's stubs give none either.
 */
export type Activeness =
  | { activeness: 'gone' }
  | { activeness: 'inactive'; cause: 'disabled' | 'reauthorization'; reason: string; intervalSeconds: number; labels?: AccountLabels }
  | { activeness: 'active'; intervalSeconds: number; push: boolean; labels?: AccountLabels };

/** Whether an account may collect now: it, its owner and the owner's domain must all be enabled. */
export async function loadActiveness(db: Queryable, id: string): Promise<Activeness> {
  const { rows } = await db.query<{
    e: boolean;
    a: boolean;
    d: boolean;
    interval_seconds: number;
    push: boolean;
    reauthorization_reason: string | null;
    owner_account_id: string;
    domain_id: string;
    host: string;
    protocol: 'pop3' | 'imap';
  }>(
    `SELECT e.enabled AS e, a.enabled AS a, d.enabled AS d, e.interval_seconds, e.protocol = 'imap' AND e.push AS push,
            e.reauthorization_reason, a.id AS owner_account_id, d.id AS domain_id, e.host, e.protocol
       FROM external_accounts e JOIN accounts a ON a.id = e.owner_account_id JOIN domains d ON d.id = a.domain_id
      WHERE e.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return { activeness: 'gone' };
  const labels: AccountLabels = { ownerAccountId: row.owner_account_id, domainId: row.domain_id, host: row.host, protocol: row.protocol };
  const reason = !row.e ? 'external account disabled' : !row.a ? 'owner account disabled' : !row.d ? 'owner domain disabled' : null;
  if (reason) return { activeness: 'inactive', cause: 'disabled', reason, intervalSeconds: row.interval_seconds, labels };
  if (row.reauthorization_reason) {
    const reason = row.reauthorization_reason;
    return { activeness: 'inactive', cause: 'reauthorization', reason, intervalSeconds: row.interval_seconds, labels };
  }
  return { activeness: 'active', intervalSeconds: row.interval_seconds, push: row.push, labels };
}
