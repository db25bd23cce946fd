-- What each account's workflow reported last, so lists and filters over thousands of accounts are
-- one query instead of a workflow query per account. The workflow stays the live source (/status).
CREATE TABLE account_status (
  external_account_id uuid PRIMARY KEY REFERENCES external_accounts (id) ON DELETE CASCADE,
  state text NOT NULL CHECK (state IN ('ok', 'failing', 'disabled', 'reauthorization_needed')),
  status jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX account_status_state_idx ON account_status (state, external_account_id);
CREATE INDEX external_accounts_name_idx ON external_accounts (name, id);
