-- Workers cache a tenant's trust anchors, signing identities, recipient
-- certificates, transport policies and webhook (src/core/settings-cache.ts).
-- Every statement that writes one of those tables, whoever runs it (the API, the
-- CLI, the SMTP ingress harvesting a certificate, psql), raises the one version
-- number in its own transaction; the claim query reads it, so a job claimed after
-- the change commits is never prepared from what was cached before it.
INSERT INTO settings_version (id, version) VALUES (true, 0) ON CONFLICT (id) DO NOTHING;
--> statement-breakpoint
CREATE FUNCTION sealpost_settings_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE settings_version SET version = version + 1;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER trust_anchors_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON trust_anchors
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_settings_changed();
--> statement-breakpoint
CREATE TRIGGER signing_identities_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_identities
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_settings_changed();
--> statement-breakpoint
CREATE TRIGGER recipient_certificates_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recipient_certificates
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_settings_changed();
--> statement-breakpoint
CREATE TRIGGER transport_policies_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON transport_policies
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_settings_changed();
--> statement-breakpoint
CREATE TRIGGER webhooks_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON webhooks
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_settings_changed();
