-- A provider's "wait" (Gmail's daily download limit, Microsoft's throttling answer): no session is
-- opened on the account before `until`, and the status says why.
CREATE TABLE provider_backoffs (
  external_account_id uuid PRIMARY KEY REFERENCES external_accounts (id) ON DELETE CASCADE,
  until timestamptz NOT NULL,
  reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- IMAP APPEND targets with imap_login 'oauth' log in to each recipient's own mailbox (Gmail,
-- Microsoft 365, any IMAP server with XOAUTH2) with the local account's APPEND login.
ALTER TABLE delivery_targets DROP CONSTRAINT delivery_targets_imap_login_check;
ALTER TABLE delivery_targets
  ADD CONSTRAINT delivery_targets_imap_login_check CHECK (imap_login IN ('master', 'user', 'oauth'));
DO $$
DECLARE
  c text;
BEGIN
  SELECT conname INTO c FROM pg_constraint
   WHERE conrelid = 'delivery_targets'::regclass AND contype = 'c'
     AND pg_get_constraintdef(oid) LIKE '%''imap''%' AND pg_get_constraintdef(oid) LIKE '%(username IS NOT NULL)%';
  EXECUTE format('ALTER TABLE delivery_targets DROP CONSTRAINT %I', c);
END $$;
ALTER TABLE delivery_targets
  ADD CONSTRAINT delivery_targets_imap_username CHECK (kind <> 'imap' OR imap_login = 'oauth' OR username IS NOT NULL);

-- A local account's own mailbox behind an 'oauth' APPEND target: who logs in, and where its
-- access tokens come from. The client secret and the tokens are sealed in append_login_secrets.
CREATE TABLE append_logins (
  account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  delivery_target_id uuid NOT NULL REFERENCES delivery_targets (id) ON DELETE CASCADE,
  username text NOT NULL,
  oauth_provider text NOT NULL CHECK (oauth_provider IN ('google', 'microsoft', 'custom')),
  oauth_token_endpoint text NOT NULL,
  oauth_client_id text NOT NULL,
  oauth_scope text,
  oauth_access_expires_at timestamptz,
  -- set when the provider answered invalid_grant: no login is tried until a new refresh token
  reauthorization_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX append_logins_target_idx ON append_logins (delivery_target_id);

CREATE TABLE append_login_secrets (
  account_id uuid NOT NULL REFERENCES append_logins (account_id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('oauth_client_secret', 'oauth_refresh_token', 'oauth_access_token')),
  key_id text NOT NULL,
  sealed bytea NOT NULL,
  bound_to text NOT NULL,
  binding_sealed boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, name)
);
CREATE INDEX append_login_secrets_key_idx ON append_login_secrets (key_id);
