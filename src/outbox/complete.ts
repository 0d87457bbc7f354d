import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';

/** Removes a job whose recipient's delivery has settled (delivered, failed, cancelled). */
export async function completeJob(tx: DbOrTx, jobId: number): Promise<void> {
  await tx.execute(completeJobStatement(jobId));
}

/** completeJob's statement, for callers that run it inside a larger one (transitionRecipients' `also`). */
export const completeJobStatement = (jobId: number): SQL => sql`DELETE FROM outbox WHERE id = ${jobId}`;

/** Removes the jobs of recipients that were cancelled before a worker took them. */
export async function removeJobsForRecipients(tx: DbOrTx, recipientIds: string[]): Promise<void> {
  if (recipientIds.length === 0) return;
  await tx.execute(sql`DELETE FROM outbox WHERE recipient_id = ANY(${sql.param(recipientIds)}::uuid[])`);
}
