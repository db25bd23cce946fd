-- A sign-in for a local account's own mailbox at the provider carries what its APPEND login needs:
-- the IMAP target (imapLogin "oauth") the mailbox is behind and the user it logs in as there.
ALTER TABLE oauth_sessions
  ADD COLUMN delivery_target_id uuid REFERENCES delivery_targets (id) ON DELETE CASCADE,
  ADD COLUMN username text,
  ADD CHECK ((purpose = 'local_mailbox') = (delivery_target_id IS NOT NULL AND username IS NOT NULL));
