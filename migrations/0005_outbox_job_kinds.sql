ALTER TABLE "outbox" DROP CONSTRAINT "outbox_recipient_id_unique";--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "recipient_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "message_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "kind" text DEFAULT 'deliver' NOT NULL;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "payload" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_kind_recipient_idx" ON "outbox" USING btree ("kind","recipient_id");