-- URLs an admin registered for account events (core/webhook-events.ts names them).
CREATE TABLE webhooks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  url text NOT NULL CHECK (length(url) <= 2048),
  events text[] NOT NULL CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['mail.delivered', 'message.quarantined', 'account.failing', 'account.reauthorization_needed']
  ),
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The key each webhook's deliveries are signed with, sealed like the other secrets (db/secrets.ts):
-- same columns, sealing context "webhook:<id>:signing_secret".
CREATE TABLE webhook_secrets (
  webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (name IN ('signing_secret')),
  key_id text NOT NULL,
  sealed bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (webhook_id, name)
);
CREATE INDEX webhook_secrets_key_idx ON webhook_secrets (key_id);

-- One event for one webhook: the exact body sent (the same bytes, and signature, on every attempt)
-- and the last attempt's result. The account may be deleted since: its id stays in the body.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  event text NOT NULL,
  external_account_id uuid NOT NULL,
  body text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'retrying', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_status integer,
  last_error text,
  -- per row, so the deliveries of one event list in a stable order
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_attempt_at timestamptz,
  finished_at timestamptz,
  UNIQUE (event_id, webhook_id)
);
CREATE INDEX webhook_deliveries_newest_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
