-- Local domains and accounts, external accounts, the UID index and the built-in mailbox store.

CREATE TABLE domains (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX domains_name_key ON domains (lower(name));

CREATE TABLE accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  domain_id uuid NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
  address text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX accounts_address_key ON accounts (lower(address));
CREATE INDEX accounts_domain_idx ON accounts (domain_id);

CREATE TABLE external_accounts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
  name text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  protocol text NOT NULL CHECK (protocol IN ('pop3')),
  host text NOT NULL,
  port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  tls_mode text NOT NULL CHECK (tls_mode IN ('detect', 'direct', 'disabled')),
  tls_ca text,
  username text NOT NULL,
  password text NOT NULL,
  interval_seconds integer NOT NULL DEFAULT 1800 CHECK (interval_seconds > 0),
  delete_policy text NOT NULL DEFAULT 'never' CHECK (delete_policy IN ('never', 'immediately', 'after_days')),
  delete_after_days integer CHECK (delete_after_days >= 0),
  mime_recipients boolean NOT NULL DEFAULT false,
  mime_headers text[] NOT NULL DEFAULT ARRAY['To', 'CC', 'X-RCPT-TO', 'X-Envelope-To', 'Received'],
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((delete_policy = 'after_days') = (delete_after_days IS NOT NULL))
);
CREATE INDEX external_accounts_owner_idx ON external_accounts (owner_account_id);

-- One row per remote message ever seen. folder and uidvalidity are '' for POP3.
CREATE TABLE uid_index (
  external_account_id uuid NOT NULL REFERENCES external_accounts (id) ON DELETE CASCADE,
  folder text NOT NULL DEFAULT '',
  uidvalidity text NOT NULL DEFAULT '',
  uid text NOT NULL,
  size bigint NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  deleted_at timestamptz,
  recipient_count integer,
  PRIMARY KEY (external_account_id, folder, uidvalidity, uid)
);

-- The built-in mailbox store: one row per message per local recipient.
CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  folder text NOT NULL DEFAULT 'INBOX',
  raw bytea NOT NULL,
  size integer NOT NULL,
  internal_date timestamptz NOT NULL DEFAULT now(),
  flags text[] NOT NULL DEFAULT '{}',
  subject text,
  from_header text,
  message_id text,
  external_account_id uuid REFERENCES external_accounts (id) ON DELETE SET NULL,
  source_folder text NOT NULL DEFAULT '',
  source_uidvalidity text NOT NULL DEFAULT '',
  source_uid text,
  delivered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_account_idx ON messages (account_id, folder, id);
-- A retried delivery cannot store the same remote message twice for the same recipient.
CREATE UNIQUE INDEX messages_delivered_once ON messages
  (account_id, external_account_id, source_folder, source_uidvalidity, source_uid)
  WHERE external_account_id IS NOT NULL;
