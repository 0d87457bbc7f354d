import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

/** Gives a job back to the queue, due again after `delaySeconds`. */
export async function rescheduleJob(tx: DbOrTx, jobId: number, delaySeconds: number): Promise<void> {
  await tx.execute(sql`
    UPDATE outbox
       SET run_at = now() + make_interval(secs => ${delaySeconds}),
           locked_by = NULL,
           locked_until = NULL
     WHERE id = ${jobId}`);
}
