ALTER TABLE "portal_sessions" ALTER COLUMN "address" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "portal_accounts" ADD COLUMN "terms_version" text;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD COLUMN "last_seen_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "portal_sessions" ADD COLUMN "unlocked" jsonb DEFAULT '[]'::jsonb NOT NULL;