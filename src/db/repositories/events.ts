import { and, asc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { events, type EventRow } from '../schema.ts';

export type NewEvent = typeof events.$inferInsert;

/** Returns what was appended (id, type, recipient), for work queued with these events (webhooks). */
export async function appendEvents(tx: DbOrTx, rows: NewEvent[]): Promise<Array<Pick<EventRow, 'id' | 'type' | 'recipientId'>>> {
  if (rows.length === 0) return [];
  return tx.insert(events).values(rows).returning({ id: events.id, type: events.type, recipientId: events.recipientId });
}

export async function listEvents(db: DbOrTx, tenantId: string, messageId: string, limit = 1000): Promise<EventRow[]> {
  return db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), eq(events.messageId, messageId)))
    .orderBy(asc(events.id))
    .limit(limit);
}
