-- OAuth2 sign-in built in: the installation's OAuth apps (one per provider, set through the API or
-- the environment) and the sign-in sessions between "Sign in with …" and the provider's answer.

CREATE TABLE oauth_apps (
  provider text PRIMARY KEY CHECK (provider IN ('google', 'microsoft', 'custom')),
  client_id text NOT NULL,
  -- Microsoft: the Entra ID tenant (a tenant id, "organizations" or "common")
  tenant text,
  -- custom: the authorization server's issuer, whose metadata names the endpoints
  issuer text,
  -- where refresh tokens are traded; what the client secret is bound to (with the client id)
  token_endpoint text NOT NULL,
  authorization_endpoint text NOT NULL,
  device_authorization_endpoint text,
  -- the scope asked for at sign-in
  scope text NOT NULL,
  -- 'env': from MAILPULL_OAUTH_* variables, which the API writes at start; the API does not change it
  source text NOT NULL CHECK (source IN ('api', 'env')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((provider = 'custom') = (issuer IS NOT NULL))
);

-- An app's client secret, sealed like an account's, bound to the token endpoint and client id.
CREATE TABLE oauth_app_secrets (
  provider text NOT NULL REFERENCES oauth_apps (provider) ON DELETE CASCADE,
  name text NOT NULL CHECK (name = 'client_secret'),
  key_id text NOT NULL,
  sealed bytea NOT NULL,
  bound_to text NOT NULL,
  binding_sealed boolean NOT NULL DEFAULT true,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, name)
);
CREATE INDEX oauth_app_secrets_key_idx ON oauth_app_secrets (key_id);

-- One sign-in: what its token is for, and the PKCE verifier until the provider sends the browser
-- back (or the device flow ends). Used once; expires within minutes.
CREATE TABLE oauth_sessions (
  id uuid PRIMARY KEY,
  -- SHA-256 of the state sent to the provider: the callback finds its session by it
  state_hash text UNIQUE,
  provider text NOT NULL,
  flow text NOT NULL CHECK (flow IN ('browser', 'loopback', 'device')),
  -- what the token is for: an external account (existing, or created from new_account), or a
  -- local account's own mailbox at the provider (where its mail is delivered)
  purpose text NOT NULL CHECK (purpose IN ('external_account', 'local_mailbox')),
  external_account_id uuid REFERENCES external_accounts (id) ON DELETE CASCADE,
  new_account jsonb,
  local_account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  redirect_uri text,
  return_to text,
  -- the domains of the token that started it (NULL: every domain): the callback acts with its rights
  token_domains uuid[],
  -- the PKCE code verifier, sealed (key id | seal), bound to the session
  verifier_key_id text,
  verifier_sealed bytea,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  message text,
  result_account_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  CHECK (
    (purpose = 'external_account' AND local_account_id IS NULL AND (external_account_id IS NULL) <> (new_account IS NULL))
    OR (purpose = 'local_mailbox' AND local_account_id IS NOT NULL AND external_account_id IS NULL AND new_account IS NULL)
  )
);
CREATE INDEX oauth_sessions_expires_idx ON oauth_sessions (expires_at);
