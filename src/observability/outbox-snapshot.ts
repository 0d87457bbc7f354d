import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

export const outboxStates = ['due', 'leased', 'scheduled'] as const;
type OutboxCounts = Record<(typeof outboxStates)[number], number>;

export interface OutboxSnapshot extends OutboxCounts {
  /** The same counts per job kind (src/outbox/job-kinds.ts); the totals above are their sums. */
  byKind: Record<string, OutboxCounts>;
  /** Seconds the oldest due, unleased job has waited past its run_at; 0 when none. */
  oldestDueSeconds: number;
}

/**
 * The outbox at a glance, for the metrics scrape and back-pressure. The three
 * states partition the rows with the same predicates the claim uses: leased (a
 * live lease), due (no live lease, run_at reached), scheduled (no live lease, a
 * retry or timed job not yet due).
 */
export async function readOutboxSnapshot(db: DbOrTx): Promise<OutboxSnapshot> {
  const result = await db.execute<{ kind: string; due: number; leased: number; scheduled: number; oldest_due_seconds: number }>(sql`
    SELECT kind,
           count(*) FILTER (WHERE locked_until >= now())::int AS leased,
           count(*) FILTER (WHERE (locked_until IS NULL OR locked_until < now()) AND run_at <= now())::int AS due,
           count(*) FILTER (WHERE (locked_until IS NULL OR locked_until < now()) AND run_at > now())::int AS scheduled,
           coalesce(extract(epoch FROM now() - min(run_at) FILTER (
             WHERE (locked_until IS NULL OR locked_until < now()) AND run_at <= now())), 0)::float8 AS oldest_due_seconds
      FROM outbox
     GROUP BY kind`);
  const snapshot: OutboxSnapshot = { due: 0, leased: 0, scheduled: 0, byKind: {}, oldestDueSeconds: 0 };
  for (const row of result.rows) {
    snapshot.byKind[row.kind] = { due: row.due, leased: row.leased, scheduled: row.scheduled };
    for (const state of outboxStates) snapshot[state] += row[state];
    snapshot.oldestDueSeconds = Math.max(snapshot.oldestDueSeconds, row.oldest_due_seconds);
  }
  return snapshot;
}
