import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

/** Keeps a worker's in-flight jobs leased while it is alive and working on them. */
export async function extendLeases(db: DbOrTx, workerId: string, jobIds: number[], leaseSeconds: number): Promise<void> {
  if (jobIds.length === 0) return;
  await db.execute(sql`
    UPDATE outbox
       SET locked_until = now() + make_interval(secs => ${leaseSeconds})
     WHERE id = ANY(${sql.param(jobIds)}::bigint[]) AND locked_by = ${workerId}`);
}

/**
 * Hands a worker's unfinished jobs back at shutdown, so another worker takes them
 * now rather than after the lease. `locked_by` stays set: whoever takes the job
 * next knows an attempt may already have reached the recipient's server.
 */
export async function releaseLeases(db: DbOrTx, workerId: string, jobIds: number[]): Promise<void> {
  if (jobIds.length === 0) return;
  await db.execute(sql`
    UPDATE outbox
       SET locked_until = NULL
     WHERE id = ANY(${sql.param(jobIds)}::bigint[]) AND locked_by = ${workerId}`);
}
