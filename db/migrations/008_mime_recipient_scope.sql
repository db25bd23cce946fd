-- MIME-recipient delivery reaches only the owner's domain unless the account allows every local domain.
ALTER TABLE external_accounts ADD COLUMN mime_all_domains boolean NOT NULL DEFAULT false;
