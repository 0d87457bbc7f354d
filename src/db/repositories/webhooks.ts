import { and, desc, eq, getTableColumns, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { events, messages, recipients, webhookDeliveries, webhooks, type EventRow, type WebhookDeliveryRow, type WebhookRow } from '../schema.ts';

export async function findWebhook(db: DbOrTx, tenantId: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.tenantId, tenantId));
  return row;
}

/** One primary-key probe: asked inside every transition that records a webhook-worthy event. */
export async function tenantHasWebhook(tx: DbOrTx, tenantId: string): Promise<boolean> {
  const result = await tx.execute(sql`SELECT 1 FROM webhooks WHERE tenant_id = ${tenantId}`);
  return result.rows.length > 0;
}

/**
 * Creates the tenant's webhook with `secret`, or changes its URL and keeps the
 * secret it has unless `replaceSecret`; one statement, so concurrent calls cannot
 * leave two. `created` says which happened (xmax is 0 for an inserted row).
 */
export async function upsertWebhook(
  db: DbOrTx,
  tenantId: string,
  values: { url: string; secret: Buffer; replaceSecret: boolean },
): Promise<{ row: WebhookRow; created: boolean }> {
  const [result] = await db
    .insert(webhooks)
    .values({ tenantId, url: values.url, secret: values.secret })
    .onConflictDoUpdate({
      target: webhooks.tenantId,
      set: { url: values.url, ...(values.replaceSecret && { secret: values.secret }), updatedAt: sql`now()` },
    })
    .returning({ ...getTableColumns(webhooks), created: sql<boolean>`(xmax = 0)` });
  const { created, ...row } = result!;
  return { row, created };
}

export async function deleteWebhook(db: DbOrTx, tenantId: string): Promise<boolean> {
  const deleted = await db.delete(webhooks).where(eq(webhooks.tenantId, tenantId)).returning({ tenantId: webhooks.tenantId });
  return deleted.length > 0;
}

export interface WebhookEvent {
  event: EventRow;
  address: string | null;
  reference: string | null;
}

/** The logbook event a webhook job is about, with its recipient's address and the message's reference. */
export async function findWebhookEvent(db: DbOrTx, eventId: number): Promise<WebhookEvent | undefined> {
  const [row] = await db
    .select({ event: events, address: recipients.address, reference: messages.reference })
    .from(events)
    .innerJoin(messages, eq(messages.id, events.messageId))
    .leftJoin(recipients, eq(recipients.id, events.recipientId))
    .where(eq(events.id, eventId));
  return row;
}

export type NewWebhookDelivery = typeof webhookDeliveries.$inferInsert;

export async function insertWebhookDelivery(tx: DbOrTx, row: NewWebhookDelivery): Promise<void> {
  await tx.insert(webhookDeliveries).values(row);
}

/** Newest first, keyset-paginated on id; optionally one message's. */
export async function listWebhookDeliveries(
  db: DbOrTx,
  q: { tenantId: string; messageId?: string | undefined; before?: number | undefined; limit: number },
): Promise<WebhookDeliveryRow[]> {
  const conditions = [eq(webhookDeliveries.tenantId, q.tenantId)];
  if (q.messageId) conditions.push(eq(webhookDeliveries.messageId, q.messageId));
  if (q.before !== undefined) conditions.push(lt(webhookDeliveries.id, q.before));
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.id))
    .limit(q.limit);
}
