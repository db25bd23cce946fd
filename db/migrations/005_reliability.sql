-- What a listing learned about each message, so downloads work from the index instead of listing
-- the server again for every batch; and per-message failures, so one bad message never blocks the rest.
ALTER TABLE uid_index
  ADD COLUMN local_folder text NOT NULL DEFAULT 'INBOX',
  ADD COLUMN internal_date timestamptz,
  ADD COLUMN flags text[] NOT NULL DEFAULT '{}',
  -- order on the server when last listed (POP3 message number, IMAP UID)
  ADD COLUMN list_position bigint NOT NULL DEFAULT 0,
  -- failed fetches or deliveries of this message; it goes to the back of the queue meanwhile
  ADD COLUMN failures integer NOT NULL DEFAULT 0,
  ADD COLUMN last_failure text,
  -- the server sent more than the size limit although it declared less: bytes received
  ADD COLUMN oversize_bytes bigint,
  -- given up after repeated failed fetches: left on the server, shown in the status
  ADD COLUMN skipped_at timestamptz;

CREATE INDEX uid_index_pending_idx ON uid_index (external_account_id, failures, first_seen_at, list_position)
  WHERE collected_at IS NULL AND deleted_at IS NULL AND skipped_at IS NULL;

-- null: the global MAILPULL_MAX_MESSAGE_BYTES applies
ALTER TABLE external_accounts ADD COLUMN max_message_bytes bigint CHECK (max_message_bytes > 0);
