CREATE TABLE "used_nonces" (
	"key_id" text NOT NULL,
	"nonce_hash" "bytea" NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "used_nonces_key_id_nonce_hash_pk" PRIMARY KEY("key_id","nonce_hash")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "digest_secret" "bytea";--> statement-breakpoint
ALTER TABLE "used_nonces" ADD CONSTRAINT "used_nonces_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "used_nonces_seen_idx" ON "used_nonces" USING btree ("seen_at");