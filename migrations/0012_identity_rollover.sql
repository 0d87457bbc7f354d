CREATE TABLE "identity_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"identity_id" uuid NOT NULL,
	"type" text NOT NULL,
	"successor_id" uuid,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "identity_events" ADD CONSTRAINT "identity_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_events" ADD CONSTRAINT "identity_events_identity_id_signing_identities_id_fk" FOREIGN KEY ("identity_id") REFERENCES "public"."signing_identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_events" ADD CONSTRAINT "identity_events_successor_id_signing_identities_id_fk" FOREIGN KEY ("successor_id") REFERENCES "public"."signing_identities"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_events_identity_idx" ON "identity_events" USING btree ("tenant_id","identity_id","id");--> statement-breakpoint
CREATE INDEX "identity_events_successor_idx" ON "identity_events" USING btree ("successor_id");