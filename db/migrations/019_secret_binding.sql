-- Every sealed secret of an external account or a delivery target is bound to where it may be sent
-- (core/secret-binding.ts): a password to the mail server (protocol, host, port, TLS mode, CA, the
-- certificate check, username), a client secret to the token endpoint and client id, a refresh or
-- access token to both. bound_to is that binding as the code writes it, a JSON array, here built
-- from each owner's current settings. The code opens a secret only for the settings it is bound to.
-- Secrets sealed from now on carry the binding in their seal's context too (binding_sealed); those
-- sealed before are sealed again with it by the first process that starts (resealSecrets).
CREATE FUNCTION pg_temp.part(value anyelement) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(to_jsonb(value)::text, 'null') $$;
CREATE FUNCTION pg_temp.ca_hash(pem text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT encode(sha256(convert_to(pem, 'UTF8')), 'hex') $$;

ALTER TABLE external_account_secrets
  ADD COLUMN bound_to text,
  ADD COLUMN binding_sealed boolean NOT NULL DEFAULT false;

UPDATE external_account_secrets s
   SET bound_to = '[' || CASE s.name
         WHEN 'password' THEN b.server
         WHEN 'oauth_client_secret' THEN b.token
         ELSE b.server || ',' || b.token
       END || ']'
  FROM (SELECT e.id,
               concat_ws(',', pg_temp.part(e.protocol), pg_temp.part(e.host), pg_temp.part(e.port), pg_temp.part(e.tls_mode),
                         pg_temp.part(pg_temp.ca_hash(e.tls_ca)), pg_temp.part(e.allow_invalid_certificates),
                         pg_temp.part(e.username)) AS server,
               concat_ws(',', pg_temp.part(e.oauth_token_endpoint), pg_temp.part(e.oauth_client_id)) AS token
          FROM external_accounts e) b
 WHERE b.id = s.external_account_id;

ALTER TABLE external_account_secrets ALTER COLUMN bound_to SET NOT NULL;

ALTER TABLE delivery_target_secrets
  ADD COLUMN bound_to text,
  ADD COLUMN binding_sealed boolean NOT NULL DEFAULT false;

UPDATE delivery_target_secrets s
   SET bound_to = '[' || concat_ws(',', pg_temp.part(t.kind), pg_temp.part(t.host), pg_temp.part(t.port),
                                   pg_temp.part(t.socket_path), pg_temp.part(t.tls_mode), pg_temp.part(pg_temp.ca_hash(t.tls_ca)),
                                   pg_temp.part(t.allow_invalid_certificates), pg_temp.part(t.username)) || ']'
  FROM delivery_targets t
 WHERE t.id = s.delivery_target_id;

ALTER TABLE delivery_target_secrets ALTER COLUMN bound_to SET NOT NULL;

DROP FUNCTION pg_temp.part(anyelement);
DROP FUNCTION pg_temp.ca_hash(text);
