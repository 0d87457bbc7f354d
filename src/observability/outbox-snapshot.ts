import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

export const outboxStates = ['due', 'leased', 'scheduled'] as const;

export interface OutboxSnapshot extends Record<(typeof outboxStates)[number], number> {
  /** Seconds the oldest due, unleased job has waited past its run_at; 0 when none. */
  oldestDueSeconds: number;
}

/**
 * The outbox at a glance, for the metrics scrape. The three states partition the
 * rows with the same predicates the claim uses: leased (a live lease), due (no
 * live lease, run_at reached), scheduled (no live lease, a retry not yet due).
 */
export async function readOutboxSnapshot(db: DbOrTx): Promise<OutboxSnapshot> {
  const result = await db.execute<{ due: number; leased: number; scheduled: number; oldest_due_seconds: number }>(sql`
    SELECT count(*) FILTER (WHERE locked_until >= now())::int AS leased,
           count(*) FILTER (WHERE (locked_until IS NULL OR locked_until < now()) AND run_at <= now())::int AS due,
           count(*) FILTER (WHERE (locked_until IS NULL OR locked_until < now()) AND run_at > now())::int AS scheduled,
           coalesce(extract(epoch FROM now() - min(run_at) FILTER (
             WHERE (locked_until IS NULL OR locked_until < now()) AND run_at <= now())), 0)::float8 AS oldest_due_seconds
      FROM outbox`);
  const row = result.rows[0]!;
  return { due: row.due, leased: row.leased, scheduled: row.scheduled, oldestDueSeconds: row.oldest_due_seconds };
}
