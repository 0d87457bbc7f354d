import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { enqueueJob } from './enqueue.ts';
import type { JobKind } from './job-kinds.ts';

/**
 * Makes sure exactly one job of `kind` exists, for jobs that re-queue
 * themselves (the retention sweep, the identity rollover). Every worker calls it
 * at start; an advisory lock serialises workers starting together so they
 * cannot queue two. Being one outbox row, the job runs in one worker at a time.
 */
export async function ensureSingletonJob(db: Db, kind: JobKind, lockName = `sealpost:${kind}`): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${lockName}))`);
    const existing = await tx.execute(sql`SELECT 1 FROM outbox WHERE kind = ${kind} LIMIT 1`);
    if (existing.rows.length === 0) await enqueueJob(tx, { kind });
  });
}
