import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { fixedStatement } from '../db/fixed-statement.ts';
import type { JobKind } from './job-kinds.ts';

export interface ClaimedJob {
  id: number;
  kind: JobKind;
  recipientId: string | null;
  messageId: string | null;
  payload: Record<string, unknown>;
  /** Attempts including this one. */
  attempts: number;
  /** True when another worker held this job and its lease ran out (it may have sent already). */
  reclaimed: boolean;
  /** `settings_version` as this claim saw it (src/core/settings-cache.ts). */
  settingsVersion: number;
}

/**
 * Claims up to `limit` due jobs for `workerId` with a lease. SKIP LOCKED lets many
 * workers claim concurrently without waiting on each other; a job whose lease ran
 * out (its worker died) is due again.
 */
export async function claimDueJobs(db: DbOrTx, workerId: string, limit: number, leaseSeconds: number): Promise<ClaimedJob[]> {
  const rows = await claim(db, { limit, workerId, leaseSeconds });
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    recipientId: r.recipient_id,
    messageId: r.message_id,
    payload: r.payload,
    attempts: r.attempts,
    reclaimed: r.reclaimed,
    settingsVersion: r.settings_version,
  }));
}

const claim = fixedStatement<
  {
    id: number;
    kind: JobKind;
    recipient_id: string | null;
    message_id: string | null;
    payload: Record<string, unknown>;
    attempts: number;
    reclaimed: boolean;
    settings_version: number;
  },
  'limit' | 'workerId' | 'leaseSeconds'
>(
  (param) => sql`
    WITH due AS (
      SELECT id, locked_by IS NOT NULL AS reclaimed
        FROM outbox
       WHERE run_at <= now() AND (locked_until IS NULL OR locked_until < now())
       ORDER BY run_at, id
       LIMIT ${param('limit')}
         FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox o
       SET locked_by = ${param('workerId')},
           locked_until = now() + make_interval(secs => ${param('leaseSeconds')}),
           attempts = o.attempts + 1
      FROM due
     WHERE o.id = due.id
    RETURNING o.id, o.kind, o.recipient_id, o.message_id, o.payload, o.attempts, due.reclaimed,
              (SELECT version FROM settings_version) AS settings_version`,
);
