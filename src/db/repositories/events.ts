import { and, asc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { events, type EventRow } from '../schema.ts';

export type NewEvent = typeof events.$inferInsert;

export async function appendEvents(tx: DbOrTx, rows: NewEvent[]): Promise<void> {
  if (rows.length > 0) await tx.insert(events).values(rows);
}

export async function listEvents(db: DbOrTx, tenantId: string, messageId: string, limit = 1000): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), eq(events.messageId, messageId)))
    .orderBy(asc(events.id))
    .limit(limit);
}
