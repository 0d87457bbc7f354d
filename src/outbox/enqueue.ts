import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { outbox } from '../db/schema.ts';
import { OUTBOX_CHANNEL } from './channel.ts';

/**
 * Adds delivery jobs inside the caller's transaction (the transactional outbox)
 * and queues a wake-up that Postgres delivers to listening workers on commit.
 */
export async function enqueueDeliveries(tx: DbOrTx, jobs: Array<{ recipientId: string; messageId: string }>): Promise<void> {
  if (jobs.length === 0) return;
  await tx.insert(outbox).values(jobs);
  await tx.execute(sql`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`);
}
