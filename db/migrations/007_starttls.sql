-- tlsMode "starttls": the upgrade is required, a server without it gets no login.
ALTER TABLE external_accounts DROP CONSTRAINT external_accounts_tls_mode_check;
ALTER TABLE external_accounts ADD CONSTRAINT external_accounts_tls_mode_check CHECK (tls_mode IN ('detect', 'starttls', 'direct', 'disabled'));
ALTER TABLE delivery_targets DROP CONSTRAINT delivery_targets_tls_mode_check;
ALTER TABLE delivery_targets ADD CONSTRAINT delivery_targets_tls_mode_check CHECK (tls_mode IN ('detect', 'starttls', 'direct', 'disabled'));
