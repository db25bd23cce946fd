-- Delivery targets (LMTP, SMTP, IMAP APPEND) per domain with a per-account override; per-recipient
-- records of what each target accepted; messages held for a retry or in quarantine.

CREATE TABLE delivery_targets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('lmtp', 'smtp', 'imap')),
  host text,
  port integer CHECK (port BETWEEN 1 AND 65535),
  -- LMTP over a unix socket instead of host and port
  socket_path text,
  tls_mode text NOT NULL DEFAULT 'disabled' CHECK (tls_mode IN ('detect', 'direct', 'disabled')),
  tls_ca text,
  allow_invalid_certificates boolean NOT NULL DEFAULT false,
  username text,
  -- IMAP: 'master' logs in as each recipient with the username's master rights (SASL PLAIN
  -- authorization id); 'user' appends everything into the username's own mailbox
  imap_login text CHECK (imap_login IN ('master', 'user')),
  max_connections integer NOT NULL DEFAULT 5 CHECK (max_connections BETWEEN 1 AND 50),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((socket_path IS NULL) = (host IS NOT NULL)),
  CHECK ((host IS NULL) = (port IS NULL)),
  CHECK (socket_path IS NULL OR kind = 'lmtp'),
  CHECK ((kind = 'imap') = (imap_login IS NOT NULL)),
  CHECK (kind <> 'imap' OR username IS NOT NULL)
);
CREATE UNIQUE INDEX delivery_targets_name_key ON delivery_targets (lower(name));

CREATE TABLE delivery_target_secrets (
  delivery_target_id uuid NOT NULL REFERENCES delivery_targets (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('password')),
  key_id text NOT NULL,
  sealed bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (delivery_target_id, name)
);
CREATE INDEX delivery_target_secrets_key_idx ON delivery_target_secrets (key_id);

-- NULL: the built-in store
ALTER TABLE domains ADD COLUMN delivery_target_id uuid REFERENCES delivery_targets (id) ON DELETE RESTRICT;

ALTER TABLE external_accounts
  ADD COLUMN delivery text NOT NULL DEFAULT 'domain' CHECK (delivery IN ('domain', 'store', 'target')),
  ADD COLUMN delivery_target_id uuid REFERENCES delivery_targets (id) ON DELETE RESTRICT,
  ADD CONSTRAINT external_accounts_delivery_target CHECK ((delivery = 'target') = (delivery_target_id IS NOT NULL));

-- collected_at: mailpull holds the message (stored, delivered or held); delivered_at: every
-- recipient has it or it is in quarantine, so the delete policy may remove it from the server.
ALTER TABLE uid_index ADD COLUMN collected_at timestamptz;
UPDATE uid_index SET collected_at = delivered_at WHERE delivered_at IS NOT NULL;

-- One row per remote message per recipient that a delivery target accepted: what the built-in
-- store's messages rows are for the store. A retry skips these recipients.
CREATE TABLE deliveries (
  external_account_id uuid NOT NULL REFERENCES external_accounts (id) ON DELETE CASCADE,
  source_folder text NOT NULL,
  source_uidvalidity text NOT NULL,
  source_uid text NOT NULL,
  delivery_generation integer NOT NULL,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  delivery_target_id uuid REFERENCES delivery_targets (id) ON DELETE SET NULL,
  content_hash text NOT NULL,
  response text,
  delivered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation, account_id)
);
CREATE INDEX deliveries_content_idx ON deliveries (external_account_id, content_hash);

-- Downloaded messages a target has not taken yet (pending: retried with backoff, still on the
-- remote server) or refused for good (quarantined: kept here, counts as delivered).
CREATE TABLE held_messages (
  id bigserial PRIMARY KEY,
  external_account_id uuid NOT NULL REFERENCES external_accounts (id) ON DELETE CASCADE,
  source_folder text NOT NULL,
  source_uidvalidity text NOT NULL,
  source_uid text NOT NULL,
  delivery_generation integer NOT NULL,
  local_folder text NOT NULL,
  raw bytea NOT NULL,
  size integer NOT NULL,
  content_hash text NOT NULL,
  internal_date timestamptz NOT NULL,
  flags text[] NOT NULL DEFAULT '{}',
  envelope_from text NOT NULL,
  subject text,
  from_header text,
  message_id text,
  state text NOT NULL CHECK (state IN ('pending', 'quarantined')),
  -- the last temporary error (pending) or the permanent answers (quarantined)
  reason text NOT NULL,
  attempts integer NOT NULL DEFAULT 1,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  quarantined_at timestamptz,
  UNIQUE (external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation)
);
CREATE INDEX held_messages_due_idx ON held_messages (external_account_id, state, next_attempt_at);

CREATE TABLE held_recipients (
  held_message_id bigint NOT NULL REFERENCES held_messages (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  state text NOT NULL CHECK (state IN ('pending', 'rejected')),
  response text NOT NULL,
  PRIMARY KEY (held_message_id, account_id)
);
