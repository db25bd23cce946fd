-- A listing tells what is on the server now, not only what is new:
-- * folder_state.listed: whether the last listing collected the folder. Messages of a folder the
--   selection no longer names, or the server no longer has, are not fetched (nor counted pending).
-- * POP3 rows are looked up by UIDL alone: a UIDL reused for a new message gets a row of its own,
--   told apart by uidvalidity (the time it was first seen again; '' for the first).
-- * Content hashes of collected POP3 messages: a message served again under another key (a
--   transient omission, a UIDL re-keyed because two messages share it) is recognised, not
--   delivered twice.
-- * Uncollected rows by folder whatever their deleted_at: an IMAP message marked gone is looked
--   for again for a while, so a listing that missed it once does not lose it.
ALTER TABLE folder_state ADD COLUMN listed boolean NOT NULL DEFAULT true;

CREATE INDEX uid_index_pop3_uid_idx ON uid_index (external_account_id, uid) WHERE folder = '';

CREATE INDEX uid_index_pop3_content_idx ON uid_index (external_account_id, content_hash)
  WHERE folder = '' AND collected_at IS NOT NULL;

CREATE INDEX uid_index_unclaimed_idx ON uid_index (external_account_id, folder) WHERE collected_at IS NULL;

-- A hash of a POP3 message's header section as downloaded: the delete pass compares it with the
-- header section the server serves now (TOP n 0), so a message of the same size that took over a
-- UIDL between two listings is never deleted in place of the one delivered.
ALTER TABLE uid_index ADD COLUMN header_hash text;

-- What is on the server as far as mailpull knows: a POP3 listing compares every such row (rows of
-- messages long gone stay in the index and are not read).
CREATE INDEX uid_index_on_server_idx ON uid_index (external_account_id, folder) WHERE deleted_at IS NULL;
