import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { OUTBOX_CHANNEL } from './channel.ts';
import type { JobKind } from './job-kinds.ts';

export interface NewJob {
  kind: JobKind;
  messageId?: string | undefined;
  recipientId?: string | undefined;
  payload?: Record<string, unknown> | undefined;
  /** Due after this many seconds; due now when absent. */
  delaySeconds?: number | undefined;
}

/**
 * Queues a job inside the caller's transaction, so it exists exactly when the
 * caller's change commits, and wakes the workers at that commit. A job of the same
 * kind already owed for the same recipient is kept as it is (no duplicate work).
 */
export async function enqueueJob(tx: DbOrTx, job: NewJob): Promise<void> {
  await tx.execute(enqueueJobStatement(job));
}

/**
 * enqueueJob's one statement, for callers that run it inside a larger one
 * (src/db/repositories/messages.ts writeTransition). A job due now NOTIFYs from
 * its RETURNING clause: only when a row was inserted, in the same round trip.
 */
export function enqueueJobStatement(job: NewJob): SQL {
  return sql`
    INSERT INTO outbox (kind, message_id, recipient_id, payload, run_at)
    VALUES (${job.kind}, ${job.messageId ?? null}, ${job.recipientId ?? null}, ${JSON.stringify(job.payload ?? {})}::jsonb,
            now() + make_interval(secs => ${job.delaySeconds ?? 0}))
    ON CONFLICT (kind, recipient_id) DO NOTHING${job.delaySeconds ? sql`` : sql` RETURNING pg_notify(${OUTBOX_CHANNEL}, '')`}`;
}
