import { createHash } from 'node:crypto';
import type { OAuthProvider } from '../core/oauth';
import type { Keyring } from '../secrets/keyring';
import { open, seal } from '../secrets/secret-box';
import type { DomainScope } from './domain-scope';
import type { Queryable } from './pool';

export type SignInFlow = 'browser' | 'loopback' | 'device';

/**
 * What a sign-in's token is for: an external account that exists (Reconnect), one created from
 * `fields` once the provider has answered, or the provider mailbox of a local account (where its
 * mail is delivered) behind an IMAP target with imapLogin "oauth", logged in to as `username`.
 */
export type SignInPurpose =
  | { kind: 'externalAccount'; externalAccountId: string }
  | { kind: 'newExternalAccount'; fields: Record<string, unknown> }
  | { kind: 'localMailbox'; localAccountId: string; deliveryTargetId: string; username: string };

export type SignInStatus = 'pending' | 'done' | 'failed';

export interface SignInSession {
  id: string;
  provider: OAuthProvider;
  flow: SignInFlow;
  purpose: SignInPurpose;
  redirectUri: string | null;
  returnTo: string | null;
  /** the domains of the token that started it: what completing it may touch */
  tokenDomains: DomainScope;
  status: SignInStatus;
  message: string | null;
  resultAccountId: string | null;
  expiresAt: Date;
  used: boolean;
}

interface Row {
  id: string;
  provider: OAuthProvider;
  flow: SignInFlow;
  purpose: 'external_account' | 'local_mailbox';
  external_account_id: string | null;
  new_account: Record<string, unknown> | null;
  local_account_id: string | null;
  delivery_target_id: string | null;
  username: string | null;
  redirect_uri: string | null;
  return_to: string | null;
  token_domains: string[] | null;
  verifier_key_id: string | null;
  verifier_sealed: Buffer | null;
  status: SignInStatus;
  message: string | null;
  result_account_id: string | null;
  expires_at: Date;
  used_at: Date | null;
}

function toPurpose(r: Row): SignInPurpose {
  if (r.purpose === 'local_mailbox') {
    return {
      kind: 'localMailbox',
      localAccountId: r.local_account_id ?? '',
      deliveryTargetId: r.delivery_target_id ?? '',
      username: r.username ?? '',
    };
  }
  if (r.external_account_id) return { kind: 'externalAccount', externalAccountId: r.external_account_id };
  return { kind: 'newExternalAccount', fields: r.new_account ?? {} };
}

const toSession = (r: Row): SignInSession => ({
  id: r.id,
  provider: r.provider,
  flow: r.flow,
  purpose: toPurpose(r),
  redirectUri: r.redirect_uri,
  returnTo: r.return_to,
  tokenDomains: r.token_domains,
  status: r.status,
  message: r.message,
  resultAccountId: r.result_account_id,
  expiresAt: r.expires_at,
  used: r.used_at !== null,
});

/** The state sent to the provider is kept only as its hash: a database reader cannot complete a sign-in. */
export const stateHash = (state: string): string => createHash('sha256').update(state, 'utf8').digest('hex');

const verifierContext = (id: string): string => `oauth_session:${id}:code_verifier`;

export interface NewSignIn {
  id: string;
  provider: OAuthProvider;
  flow: SignInFlow;
  purpose: SignInPurpose;
  /** browser and loopback flows */
  state: string | null;
  codeVerifier: string | null;
  redirectUri: string | null;
  returnTo: string | null;
  tokenDomains: DomainScope;
  expiresAt: Date;
}

/** Records a sign-in, the PKCE verifier sealed; expired ones are removed on the way. */
export async function insertSignIn(db: Queryable, keyring: Keyring, s: NewSignIn): Promise<void> {
  await db.query("DELETE FROM oauth_sessions WHERE expires_at < now() - interval '1 day'");
  const key = keyring.active();
  const sealed = s.codeVerifier === null ? null : seal(key, s.codeVerifier, verifierContext(s.id));
  const p = s.purpose;
  await db.query(
    `INSERT INTO oauth_sessions (id, state_hash, provider, flow, purpose, external_account_id, new_account, local_account_id,
       delivery_target_id, username, redirect_uri, return_to, token_domains, verifier_key_id, verifier_sealed, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      s.id,
      s.state === null ? null : stateHash(s.state),
      s.provider,
      s.flow,
      p.kind === 'localMailbox' ? 'local_mailbox' : 'external_account',
      p.kind === 'externalAccount' ? p.externalAccountId : null,
      p.kind === 'newExternalAccount' ? JSON.stringify(p.fields) : null,
      p.kind === 'localMailbox' ? p.localAccountId : null,
      p.kind === 'localMailbox' ? p.deliveryTargetId : null,
      p.kind === 'localMailbox' ? p.username : null,
      s.redirectUri,
      s.returnTo,
      s.tokenDomains,
      sealed === null ? null : key.id,
      sealed,
      s.expiresAt,
    ],
  );
}

export async function getSignIn(db: Queryable, id: string): Promise<SignInSession | null> {
  const { rows } = await db.query<Row>('SELECT * FROM oauth_sessions WHERE id = $1', [id]);
  return rows[0] ? toSession(rows[0]) : null;
}

/**
 * Takes the pending, unexpired sign-in the state belongs to, once: a second callback with the same
 * state (a replay, a reload) finds nothing. The PKCE verifier comes back opened.
 */
export async function claimSignIn(
  db: Queryable,
  keyring: Keyring,
  where: { state: string; id: string | null },
): Promise<{ session: SignInSession; codeVerifier: string | null } | null> {
  const { rows } = await db.query<Row>(
    `UPDATE oauth_sessions SET used_at = now()
      WHERE state_hash = $1 AND ($2::uuid IS NULL OR id = $2) AND used_at IS NULL AND status = 'pending' AND expires_at > now()
      RETURNING *`,
    [stateHash(where.state), where.id],
  );
  const row = rows[0];
  if (!row) return null;
  let codeVerifier: string | null = null;
  if (row.verifier_sealed && row.verifier_key_id) {
    const key = keyring.find(row.verifier_key_id);
    codeVerifier = key ? open(key, row.verifier_sealed, verifierContext(row.id)) : null;
  }
  return { session: toSession(row), codeVerifier };
}

/** Whether a state belongs to a sign-in that was already used or has expired (for the callback's message). */
export async function signInOfState(db: Queryable, state: string): Promise<SignInSession | null> {
  const { rows } = await db.query<Row>('SELECT * FROM oauth_sessions WHERE state_hash = $1', [stateHash(state)]);
  return rows[0] ? toSession(rows[0]) : null;
}

/** The outcome; the verifier is dropped with it. */
export async function finishSignIn(
  db: Queryable,
  id: string,
  outcome: { status: 'done'; accountId: string } | { status: 'failed'; message: string },
): Promise<void> {
  await db.query(
    `UPDATE oauth_sessions SET status = $2, message = $3, result_account_id = $4, verifier_key_id = NULL, verifier_sealed = NULL,
       used_at = coalesce(used_at, now())
      WHERE id = $1`,
    [id, outcome.status, outcome.status === 'failed' ? outcome.message : null, outcome.status === 'done' ? outcome.accountId : null],
  );
}
