-- At most one evidence job per message that no worker has claimed yet: a later
-- change that owes evidence finds it and adds nothing (src/outbox/enqueue.ts),
-- because that job issues everything its message owes when it runs. Jobs
-- queued twice before this migration are merged first, the oldest kept.
DELETE FROM "outbox" o
 USING "outbox" older
 WHERE o.kind = 'evidence' AND o.attempts = 0
   AND older.kind = 'evidence' AND older.attempts = 0
   AND older.message_id = o.message_id AND older.id < o.id;--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_fresh_evidence_idx" ON "outbox" USING btree ("kind","message_id") WHERE kind = 'evidence' AND attempts = 0;
