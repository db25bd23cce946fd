-- The answers to create requests sent with an Idempotency-Key header, kept 24 hours: the same
-- request sent again (a client retrying after a lost answer) gets the first answer instead of
-- making a second object. Keys belong to the token that sent them. The answer is sealed like a
-- secret (the answer to a new webhook shows its signing secret): context
-- "idempotency:<token id>:<key>".
CREATE TABLE idempotency_keys (
  token_id text NOT NULL,
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- SHA-256 of the method, path and body: the same key with another request is refused
  fingerprint bytea NOT NULL,
  -- null while the first request is still being answered
  status smallint,
  key_id text,
  sealed_answer bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (token_id, key),
  CHECK ((status IS NULL) = (sealed_answer IS NULL) AND (status IS NULL) = (key_id IS NULL))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
