-- Signed evidence is kept as issued: rows are added, never changed or removed.
CREATE FUNCTION sealpost_refuse_evidence_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'evidence is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER evidence_append_only
  BEFORE UPDATE OR DELETE ON evidence
  FOR EACH ROW EXECUTE FUNCTION sealpost_refuse_evidence_change();
--> statement-breakpoint
CREATE TRIGGER evidence_no_truncate
  BEFORE TRUNCATE ON evidence
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_refuse_evidence_change();
