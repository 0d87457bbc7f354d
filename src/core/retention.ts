import { sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { ensureSingletonJob } from '../outbox/singleton-job.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import type { JobResult } from '../worker/worker.ts';

/**
 * Retention: RETENTION_DAYS after submission a message's content (subject,
 * bodies, attachment names in messages.content, the attachments' bytes) is
 * emptied, once nothing about the message is still owed. Kept: the message's
 * metadata, recipients, logbook, evidence, and each attachment's size and
 * SHA-256 (the evidence names them). docs/operations.md, "Retention".
 */
export interface RetentionSettings {
  /** Unset: content is kept for ever and the sweep removes its own job. */
  days: number | undefined;
  batchSize: number;
  intervalSeconds: number;
}

export interface PurgeResult {
  messages: number;
  attachments: number;
  /** The submitted size of the content emptied (messages.size_bytes). */
  bytes: number;
}

/**
 * Empties the content of up to `batchSize` messages submitted before `cutoff`,
 * oldest first, in one transaction. Never touched: a message with a recipient
 * still being delivered (accepted, processing, retrying), a registered message
 * with a recipient who has not yet accepted, refused or let it expire
 * (delivered, opened), or one with any outbox job still owed (delivery,
 * evidence, webhook). Rows locked by a running transition are skipped, not waited for.
 */
export async function purgeExpiredContent(db: DbOrTx, cutoff: Date, batchSize: number): Promise<PurgeResult> {
  const result = await db.execute<{ messages: string; attachments: string; bytes: string }>(sql`
    WITH due AS (
      SELECT m.id, m.size_bytes
        FROM messages m
       WHERE m.content_deleted_at IS NULL
         AND m.created_at < ${cutoff.toISOString()}::timestamptz
         AND NOT EXISTS (
               SELECT 1 FROM recipients r
                WHERE r.message_id = m.id
                  AND (r.status IN ('accepted', 'processing', 'retrying')
                       OR (m.mode = 'registered' AND r.status IN ('delivered', 'opened'))))
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id)
         AND NOT EXISTS (SELECT 1 FROM outbox o JOIN recipients r ON r.id = o.recipient_id WHERE r.message_id = m.id)
       ORDER BY m.created_at
       LIMIT ${batchSize}
         FOR UPDATE OF m SKIP LOCKED
    ), emptied AS (
      UPDATE messages m
         SET content = '\\x'::bytea, content_deleted_at = now()
        FROM due
       WHERE m.id = due.id
      RETURNING m.id, due.size_bytes
    ), attachments_emptied AS (
      UPDATE attachments a
         SET content = '\\x'::bytea
       WHERE a.message_id IN (SELECT id FROM emptied)
      RETURNING a.id
    )
    SELECT (SELECT count(*) FROM emptied) AS messages,
           (SELECT count(*) FROM attachments_emptied) AS attachments,
           (SELECT coalesce(sum(size_bytes), 0) FROM emptied) AS bytes`);
  const row = result.rows[0]!;
  return { messages: Number(row.messages), attachments: Number(row.attachments), bytes: Number(row.bytes) };
}

const SWEEP_LOCK = 'sealpost:retention-sweep';

/**
 * Makes sure exactly one `retention` job exists (called by every worker at
 * start when retention is on): an advisory lock serialises workers starting
 * together, so they cannot queue two. The job then re-queues itself.
 */
export async function scheduleRetentionSweep(db: Db): Promise<void> {
  await ensureSingletonJob(db, JobKind.retention, SWEEP_LOCK);
}

/**
 * The `retention` job: one batch per run. A full batch runs again a second
 * later (a backlog drains batch by batch); otherwise the job comes back after
 * the interval. Being one outbox row, only one worker sweeps at a time however
 * many run. With retention off in this worker, the job removes itself.
 */
export async function retentionSweepJob(db: Db, settings: RetentionSettings, job: ClaimedJob, log: Logger): Promise<JobResult> {
  if (settings.days === undefined) {
    log.info('retention is off (RETENTION_DAYS unset); removing the retention sweep job');
    await completeJob(db, job.id);
    return 'skipped';
  }
  const cutoff = new Date(Date.now() - settings.days * 86_400_000);
  const purged = await purgeExpiredContent(db, cutoff, settings.batchSize);
  log.info({ ...purged, cutoff: cutoff.toISOString(), retentionDays: settings.days }, 'retention sweep: content emptied');
  await rescheduleJob(db, job.id, purged.messages >= settings.batchSize ? 1 : settings.intervalSeconds);
  return 'done';
}
