-- Every change made through the API: who (token), what (action, object), when, which fields; never values.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  token_id text NOT NULL,
  action text NOT NULL,
  object text NOT NULL,
  fields text[] NOT NULL DEFAULT '{}',
  status integer NOT NULL
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
