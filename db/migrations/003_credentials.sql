-- Secrets encrypted at rest (AES-256-GCM, key id beside each), OAuth2 (XOAUTH2) settings and
-- state, and hashed API tokens.

CREATE TABLE external_account_secrets (
  external_account_id uuid NOT NULL REFERENCES external_accounts (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('password', 'oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token')),
  -- which key sealed it; 'plaintext' only for passwords carried over from before this migration,
  -- which every process seals at start-up (sealPlaintextSecrets)
  key_id text NOT NULL,
  -- nonce (12 bytes) | GCM tag (16 bytes) | ciphertext
  sealed bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (external_account_id, name)
);
CREATE INDEX external_account_secrets_key_idx ON external_account_secrets (key_id);

INSERT INTO external_account_secrets (external_account_id, name, key_id, sealed)
  SELECT id, 'password', 'plaintext', convert_to(password, 'UTF8') FROM external_accounts WHERE password <> '';
ALTER TABLE external_accounts DROP COLUMN password;

ALTER TABLE external_accounts DROP CONSTRAINT external_accounts_auth_method_check;
ALTER TABLE external_accounts DROP CONSTRAINT external_accounts_apop_pop3;
ALTER TABLE external_accounts
  ADD CONSTRAINT external_accounts_auth_method_check CHECK (auth_method IN ('password', 'apop', 'xoauth2')),
  ADD CONSTRAINT external_accounts_apop_pop3 CHECK (auth_method <> 'apop' OR protocol = 'pop3'),
  ADD COLUMN oauth_provider text CHECK (oauth_provider IN ('google', 'microsoft', 'custom')),
  ADD COLUMN oauth_token_endpoint text,
  ADD COLUMN oauth_client_id text,
  ADD COLUMN oauth_scope text,
  ADD COLUMN oauth_access_expires_at timestamptz,
  -- set when the provider answered invalid_grant: no login is tried until a new refresh token
  ADD COLUMN reauthorization_reason text,
  ADD CONSTRAINT external_accounts_oauth_complete CHECK (
    (auth_method = 'xoauth2') = (oauth_provider IS NOT NULL AND oauth_token_endpoint IS NOT NULL AND oauth_client_id IS NOT NULL));

CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('admin', 'read')),
  -- SHA-256 of the token's secret part; the token itself is shown once, at creation
  secret_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
