-- A token may be limited to some local domains (domain_ids; NULL: every domain, an empty list:
-- none, e.g. after its domains were deleted) and may read message bodies (messages_read).
-- No foreign key: deleting a domain must never widen a token to every domain.
ALTER TABLE api_tokens
  ADD COLUMN domain_ids uuid[],
  ADD COLUMN messages_read boolean NOT NULL DEFAULT false;
-- admin tokens could read message bodies before: they keep that right
UPDATE api_tokens SET messages_read = true WHERE scope = 'admin';
