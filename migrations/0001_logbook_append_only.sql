-- The logbook is evidence: rows are added, never changed or removed.
CREATE FUNCTION sealpost_refuse_logbook_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the logbook (events) is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_append_only
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION sealpost_refuse_logbook_change();
--> statement-breakpoint
CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION sealpost_refuse_logbook_change();
--> statement-breakpoint
-- Sealed (encrypted) bytes do not compress: store them out of line without trying.
ALTER TABLE "attachments" ALTER COLUMN "content" SET STORAGE EXTERNAL;
--> statement-breakpoint
ALTER TABLE "messages" ALTER COLUMN "content" SET STORAGE EXTERNAL;
