CREATE TYPE "public"."certificate_source" AS ENUM('import', 'harvested');--> statement-breakpoint
CREATE TABLE "recipient_certificates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"scope" text NOT NULL,
	"certificate" "bytea" NOT NULL,
	"chain_pem" text DEFAULT '' NOT NULL,
	"fingerprint" text NOT NULL,
	"subject" text NOT NULL,
	"issuer" text NOT NULL,
	"serial" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"source" "certificate_source" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_identities" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"scope" text NOT NULL,
	"certificate" "bytea" NOT NULL,
	"chain_pem" text DEFAULT '' NOT NULL,
	"private_key" "bytea" NOT NULL,
	"key_algorithm" text NOT NULL,
	"fingerprint" text NOT NULL,
	"subject" text NOT NULL,
	"issuer" text NOT NULL,
	"serial" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "trust_anchors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"certificate" "bytea" NOT NULL,
	"fingerprint" text NOT NULL,
	"subject" text NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "trust_anchors_fingerprint_key" UNIQUE NULLS NOT DISTINCT("tenant_id","fingerprint")
);
--> statement-breakpoint
ALTER TABLE "recipient_certificates" ADD CONSTRAINT "recipient_certificates_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "signing_identities" ADD CONSTRAINT "signing_identities_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trust_anchors" ADD CONSTRAINT "trust_anchors_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "recipient_certificates_fingerprint_idx" ON "recipient_certificates" USING btree ("tenant_id","fingerprint");--> statement-breakpoint
CREATE INDEX "recipient_certificates_scope_idx" ON "recipient_certificates" USING btree ("tenant_id","scope");--> statement-breakpoint
CREATE UNIQUE INDEX "signing_identities_fingerprint_idx" ON "signing_identities" USING btree ("tenant_id","fingerprint");--> statement-breakpoint
CREATE INDEX "signing_identities_scope_idx" ON "signing_identities" USING btree ("tenant_id","scope");