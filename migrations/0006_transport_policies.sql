CREATE TABLE "transport_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"domain" text NOT NULL,
	"policy" text NOT NULL,
	"route" text DEFAULT 'mx' NOT NULL,
	"relay_url" "bytea",
	"relay_host" text,
	"ca_pem" text,
	"client_cert_file" text,
	"client_key_file" text,
	"business" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "transport_policies" ADD CONSTRAINT "transport_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "transport_policies_domain_idx" ON "transport_policies" USING btree ("tenant_id","domain");