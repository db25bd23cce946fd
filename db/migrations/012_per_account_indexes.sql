-- Indexes for the per-account queries that had none, checked with EXPLAIN on a database of many
-- accounts (see docs/operations.md, "Scaling out").

-- alreadyDelivered (db/deliveries.ts) looks a batch's messages up in the store by their source.
-- The store's unique index starts with the local account, so each batch read every message the
-- external account had ever stored.
CREATE INDEX messages_source_idx ON messages (external_account_id, source_folder, source_uidvalidity, source_uid)
  WHERE external_account_id IS NOT NULL;

-- markVanished, pendingCounts and loadCursors (db/uid-index.ts) want an account's messages not yet
-- collected; the primary key gave them every message the account had ever listed.
CREATE INDEX uid_index_uncollected_idx ON uid_index (external_account_id, folder)
  WHERE collected_at IS NULL AND deleted_at IS NULL;

-- Copies recognized by content after a UIDVALIDITY change (db/uid-index.ts).
CREATE INDEX uid_index_recognized_idx ON uid_index (external_account_id, content_hash) WHERE recognized;

-- Which accounts hold messages for a delivery target (db/held-messages.ts), asked when a target changes.
CREATE INDEX held_messages_pending_idx ON held_messages (external_account_id) WHERE state = 'pending';

-- Deleting a local account removes or clears the rows that name it.
CREATE INDEX deliveries_account_idx ON deliveries (account_id);
CREATE INDEX held_recipients_account_idx ON held_recipients (account_id);
CREATE INDEX external_accounts_forward_to_idx ON external_accounts (forward_to_account_id) WHERE forward_to_account_id IS NOT NULL;
