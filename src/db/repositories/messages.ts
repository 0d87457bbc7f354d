import { and, asc, desc, eq, gte, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { attachments, messages, recipients, type MessageRow, type RecipientRow } from '../schema.ts';
import type { MessageStatus, RecipientStatus } from '../../core/states.ts';

/** A tenant's message, or undefined: another tenant's id is indistinguishable from a missing one. */
export async function findMessage(db: DbOrTx, tenantId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.id, id), eq(messages.tenantId, tenantId)));
  return row;
}

export async function findMessageByIdempotencyKey(db: DbOrTx, tenantId: string, key: string): Promise<MessageRow | undefined> {
  const [row] = await db
    .select()
    .from(messages)
    .where(and(eq(messages.tenantId, tenantId), eq(messages.idempotencyKey, key)));
  return row;
}

/** Locks the message row: every change to a message's recipients takes this lock first. */
export async function lockMessage(tx: DbOrTx, id: string): Promise<MessageRow | undefined> {
  const [row] = await tx.select().from(messages).where(eq(messages.id, id)).for('update');
  return row;
}

export async function findRecipients(db: DbOrTx, messageIds: string[]): Promise<RecipientRow[]> {
  if (messageIds.length === 0) return [];
  return db
    .select()
    .from(recipients)
    .where(sql`${recipients.messageId} = ANY(${sql.param(messageIds)}::uuid[])`)
    .orderBy(asc(recipients.messageId), asc(recipients.position));
}

export async function updateRecipient(
  tx: DbOrTx,
  id: string,
  patch: { status: RecipientStatus; attempts?: number; lastError?: string | null; deliveredAt?: Date },
): Promise<void> {
  await tx
    .update(recipients)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(recipients.id, id));
}

/** Returns what was stored, so callers holding the row can keep it current. */
export async function updateMessageStatus(
  tx: DbOrTx,
  id: string,
  status: MessageStatus,
): Promise<Pick<MessageRow, 'status' | 'updatedAt'>> {
  const [row] = await tx
    .update(messages)
    .set({ status, updatedAt: sql`now()` })
    .where(eq(messages.id, id))
    .returning({ status: messages.status, updatedAt: messages.updatedAt });
  if (!row) throw new Error(`message ${id} does not exist`);
  return row;
}

export interface MessagePageQuery {
  tenantId: string;
  status?: MessageStatus;
  since?: Date;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, id). */
export async function listMessages(db: DbOrTx, q: MessagePageQuery): Promise<MessageRow[]> {
  const conditions = [eq(messages.tenantId, q.tenantId)];
  if (q.status) conditions.push(eq(messages.status, q.status));
  if (q.since) conditions.push(gte(messages.createdAt, q.since));
  if (q.after) {
    conditions.push(
      or(
        lt(messages.createdAt, q.after.createdAt),
        and(eq(messages.createdAt, q.after.createdAt), lt(messages.id, q.after.id)),
      )!,
    );
  }
  return db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(q.limit);
}

export async function findAttachments(db: DbOrTx, messageId: string) {
  return db.select().from(attachments).where(eq(attachments.messageId, messageId)).orderBy(asc(attachments.position));
}
