import { MailpullError } from '../core/errors';
import { misboundMessage, targetPasswordBinding } from '../core/secret-binding';
import type { DeliveryTarget, DeliveryTargetSettings, StoredDeliveryTarget } from '../core/delivery-target';
import type { Keyring } from '../secrets/keyring';
import { inDomains, type DomainScope } from './domain-scope';
import type { Queryable } from './pool';
import { loadTargetPassword } from './secrets';

export const settingsOf = (t: DeliveryTarget): DeliveryTargetSettings => ({
  name: t.name,
  kind: t.kind,
  host: t.host,
  port: t.port,
  socketPath: t.socketPath,
  tlsMode: t.tlsMode,
  tlsCa: t.tlsCa,
  allowInvalidCertificates: t.allowInvalidCertificates,
  username: t.username,
  imapLogin: t.imapLogin,
  maxConnections: t.maxConnections,
});

const COLUMNS = `t.id, t.name, t.kind, t.host, t.port, t.socket_path AS "socketPath", t.tls_mode AS "tlsMode", t.tls_ca AS "tlsCa",
  t.allow_invalid_certificates AS "allowInvalidCertificates", t.username, t.imap_login AS "imapLogin",
  t.max_connections AS "maxConnections", t.created_at AS "createdAt", t.updated_at AS "updatedAt",
  EXISTS (SELECT 1 FROM delivery_target_secrets s WHERE s.delivery_target_id = t.id) AS "passwordSet"`;

const values = (s: DeliveryTargetSettings): unknown[] => [
  s.name,
  s.kind,
  s.host,
  s.port,
  s.socketPath,
  s.tlsMode,
  s.tlsCa,
  s.allowInvalidCertificates,
  s.username,
  s.imapLogin,
  s.maxConnections,
];

export async function insertTarget(db: Queryable, s: DeliveryTargetSettings): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO delivery_targets (name, kind, host, port, socket_path, tls_mode, tls_ca, allow_invalid_certificates, username,
                                   imap_login, max_connections)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    values(s),
  );
  return rows[0].id;
}

export async function updateTarget(db: Queryable, id: string, s: DeliveryTargetSettings): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE delivery_targets SET name = $2, kind = $3, host = $4, port = $5, socket_path = $6, tls_mode = $7, tls_ca = $8,
            allow_invalid_certificates = $9, username = $10, imap_login = $11, max_connections = $12, updated_at = now()
      WHERE id = $1`,
    [id, ...values(s)],
  );
  return (rowCount ?? 0) > 0;
}

/** Marks a target changed (its password), so pooled connections are rebuilt. */
export async function touchTarget(db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE delivery_targets SET updated_at = now() WHERE id = $1', [id]);
}

export async function listTargets(db: Queryable, scope: DomainScope): Promise<DeliveryTarget[]> {
  return (
    await db.query<DeliveryTarget>(
      `SELECT ${COLUMNS} FROM delivery_targets t WHERE ${inDomains('deliveryTarget', 't', '$1')} ORDER BY lower(t.name)`,
      [scope],
    )
  ).rows;
}

export async function getTarget(db: Queryable, id: string): Promise<DeliveryTarget | null> {
  return (await db.query<DeliveryTarget>(`SELECT ${COLUMNS} FROM delivery_targets t WHERE t.id = $1`, [id])).rows[0] ?? null;
}

export async function findTargetByName(db: Queryable, name: string): Promise<DeliveryTarget | null> {
  return (
    (await db.query<DeliveryTarget>(`SELECT ${COLUMNS} FROM delivery_targets t WHERE lower(t.name) = lower($1)`, [name])).rows[0] ?? null
  );
}

/** The target with its password, which is opened only for the host, port and user it was given for. */
export async function getStoredTarget(db: Queryable, keyring: Keyring, id: string): Promise<StoredDeliveryTarget | null> {
  const target = await getTarget(db, id);
  if (!target) return null;
  const { password, misbound } = await loadTargetPassword(db, keyring, id, targetPasswordBinding(target));
  if (misbound) throw new MailpullError('config', misboundMessage('password'));
  return { ...target, password };
}

export async function deleteTarget(db: Queryable, id: string): Promise<boolean> {
  return ((await db.query('DELETE FROM delivery_targets WHERE id = $1', [id])).rowCount ?? 0) > 0;
}

/** Which domains and external accounts deliver through the target: a target in use is not deleted. */
export async function targetUsers(db: Queryable, id: string): Promise<{ domains: number; externalAccounts: number }> {
  const { rows } = await db.query<{ domains: number; externalAccounts: number }>(
    `SELECT (SELECT count(*)::int FROM domains WHERE delivery_target_id = $1) AS domains,
            (SELECT count(*)::int FROM external_accounts WHERE delivery_target_id = $1) AS "externalAccounts"`,
    [id],
  );
  return rows[0];
}
