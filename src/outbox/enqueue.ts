import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { OUTBOX_CHANNEL } from './channel.ts';
import { JobKind } from './job-kinds.ts';

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
 * kind already owed for the same recipient is kept as it is (no duplicate work);
 * for evidence, one already owed for the same message and not yet claimed.
 */
export async function enqueueJob(tx: DbOrTx, job: NewJob): Promise<void> {
  await tx.execute(enqueueJobStatement(job));
}

/**
 * How long an evidence job waits before it is due. Evidence jobs are per
 * message and gathered: the one a message has that no worker has claimed yet
 * takes in every later change that owes evidence (the partial unique index
 * outbox_fresh_evidence_idx, migration 0016), since it issues everything its
 * message owes when it runs. Waiting these seconds lets the events of a copy's
 * first moments, `submitted` and `delivered`, be issued by one run: one read
 * and one write instead of two of each (docs/evidence.md).
 */
export const EVIDENCE_GATHER_SECONDS = 2;

/**
 * enqueueJob's one statement, for callers that run it inside a larger one
 * (src/db/repositories/messages.ts writeTransition). A job due now NOTIFYs from
 * its RETURNING clause: only when a row was inserted, in the same round trip.
 */
export function enqueueJobStatement(job: NewJob): SQL {
  const evidence = job.kind === JobKind.evidence;
  const delay = job.delaySeconds ?? (evidence ? EVIDENCE_GATHER_SECONDS : 0);
  const owedOnce = evidence ? sql`(kind, message_id) WHERE kind = 'evidence' AND attempts = 0` : sql`(kind, recipient_id)`;
  return sql`
    INSERT INTO outbox (kind, message_id, recipient_id, payload, run_at)
    VALUES (${job.kind}, ${job.messageId ?? null}, ${job.recipientId ?? null}, ${JSON.stringify(job.payload ?? {})}::jsonb,
            now() + make_interval(secs => ${delay}))
    ON CONFLICT ${owedOnce} DO NOTHING${delay ? sql`` : sql` RETURNING pg_notify(${OUTBOX_CHANNEL}, '')`}`;
}
