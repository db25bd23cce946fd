-- IMAP accounts, TLS and auth options, folders, push, forward-to; per-folder cursors; content
-- keys for recognising copies after a UIDVALIDITY change; delivery generations for reset-index.

ALTER TABLE external_accounts DROP CONSTRAINT external_accounts_protocol_check;
ALTER TABLE external_accounts ADD CONSTRAINT external_accounts_protocol_check CHECK (protocol IN ('pop3', 'imap'));
ALTER TABLE external_accounts
  ADD COLUMN auth_method text NOT NULL DEFAULT 'password' CHECK (auth_method IN ('password', 'apop')),
  ADD COLUMN allow_invalid_certificates boolean NOT NULL DEFAULT false,
  ADD COLUMN folder_mode text NOT NULL DEFAULT 'inbox' CHECK (folder_mode IN ('inbox', 'list', 'all')),
  -- the folders to collect ('list') or to leave out ('all': paths or special-use like \Trash)
  ADD COLUMN folder_names text[] NOT NULL DEFAULT '{}',
  ADD COLUMN mirror_folders boolean NOT NULL DEFAULT false,
  ADD COLUMN push boolean NOT NULL DEFAULT false,
  ADD COLUMN receive_time text NOT NULL DEFAULT 'download' CHECK (receive_time IN ('download', 'received_header')),
  ADD COLUMN forward_to_account_id uuid REFERENCES accounts (id) ON DELETE SET NULL,
  -- raised by a forced index reset, so copies already stored do not block delivering again
  ADD COLUMN delivery_generation integer NOT NULL DEFAULT 0,
  ADD CONSTRAINT external_accounts_apop_pop3 CHECK (auth_method = 'password' OR protocol = 'pop3');

-- What a cycle knows about each IMAP folder: its UIDVALIDITY and the highest UID seen.
CREATE TABLE folder_state (
  external_account_id uuid NOT NULL REFERENCES external_accounts (id) ON DELETE CASCADE,
  folder text NOT NULL,
  uidvalidity text NOT NULL,
  highest_uid bigint NOT NULL DEFAULT 0,
  resynced_at timestamptz,
  PRIMARY KEY (external_account_id, folder)
);

ALTER TABLE uid_index
  ADD COLUMN content_hash text,
  -- a copy of a message delivered under an earlier UIDVALIDITY: marked delivered, not stored
  ADD COLUMN recognized boolean NOT NULL DEFAULT false;

ALTER TABLE messages
  ADD COLUMN content_hash text,
  ADD COLUMN delivery_generation integer NOT NULL DEFAULT 0;
DROP INDEX messages_delivered_once;
CREATE UNIQUE INDEX messages_delivered_once ON messages
  (account_id, external_account_id, source_folder, source_uidvalidity, source_uid, delivery_generation)
  WHERE external_account_id IS NOT NULL;
CREATE INDEX messages_content_idx ON messages (external_account_id, content_hash) WHERE external_account_id IS NOT NULL;
