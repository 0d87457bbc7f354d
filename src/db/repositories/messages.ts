import { and, asc, desc, eq, gte, lt, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../client.ts';
import { fixedStatement } from '../fixed-statement.ts';
import { copyOutBinary, uuidLiteral } from '../copy-out.ts';
import { messageFromJson, recipientFromJson, type MessageJson, type RecipientJson } from '../row-json.ts';
import { messages, recipients, type AttachmentRow, type EventRow, type MessageRow, type RecipientRow } from '../schema.ts';
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

/**
 * Locks the message row, then reads it and its recipients (position order), in
 * one round trip: sealpost_lock_message (migrations/0015_lock_message_function.sql)
 * runs the two as separate statements, because under READ COMMITTED a statement
 * that waited for the lock still reads other tables as they were when it began,
 * so recipients read in the locking statement could miss a change committed by
 * the transaction it waited for.
 */
export async function lockMessageWithRecipients(tx: DbOrTx, id: string): Promise<{ message: MessageRow; recipients: RecipientRow[] } | undefined> {
  const [row] = await lockMessage(tx, { id });
  return row?.locked ? { message: messageFromJson(row.locked.message), recipients: row.locked.recipients.map(recipientFromJson) } : undefined;
}

const lockMessage = fixedStatement<{ locked: { message: MessageJson; recipients: RecipientJson[] } | null }, 'id'>(
  (param) => sql`SELECT sealpost_lock_message(${param('id')}) AS locked`,
);

export async function findRecipients(db: DbOrTx, messageIds: string[]): Promise<RecipientRow[]> {
  if (messageIds.length === 0) return [];
  return db
    .select()
    .from(recipients)
    .where(sql`${recipients.messageId} = ANY(${sql.param(messageIds)}::uuid[])`)
    .orderBy(asc(recipients.messageId), asc(recipients.position));
}

export interface TransitionWrite {
  messageId: string;
  tenantId: string;
  actor: string;
  /** The recipients' new columns; `lastError` absent leaves it as it is. */
  recipients: Array<{ id: string; status: RecipientStatus; attempts?: number | undefined; lastError?: string | null | undefined; deliveredAt?: Date | undefined }>;
  /** Logbook events, appended in this order. */
  events: Array<{ recipientId: string | null; type: string; detail: Record<string, unknown> }>;
  /** The message's new summary status, when it changes. */
  messageStatus?: MessageStatus | undefined;
  /** More statements to run in the same round trip (src/outbox/enqueue.ts enqueueJobStatement). */
  also?: SQL[];
}

/**
 * Writes one transition (src/core/transition.ts decides it) in a single
 * statement: the recipients' columns, the logbook events, the message's status
 * and anything `also` queues, as data-modifying WITH queries, which PostgreSQL
 * runs once each whether or not the result reads them. Returns the appended
 * events (id order) and, when the status changed, what was stored.
 */
export async function writeTransition(
  tx: DbOrTx,
  t: TransitionWrite,
): Promise<{ events: Array<Pick<EventRow, 'id' | 'type' | 'recipientId'>>; message?: Pick<MessageRow, 'status' | 'updatedAt'> }> {
  const patches = t.recipients.map((r) => ({
    id: r.id,
    status: r.status,
    attempts: r.attempts ?? null,
    setLastError: r.lastError !== undefined,
    lastError: r.lastError ?? null,
    deliveredAt: r.deliveredAt?.toISOString() ?? null,
  }));
  const also = (t.also ?? []).map((statement, i) => sql`, ${sql.raw(`also_${i}`)} AS (${statement})`);
  const result = await tx.execute<{ events: Array<{ id: number; type: string; recipient_id: string | null }>; status: MessageStatus | null; updated_at: string | null }>(sql`
    WITH patch AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(patches)}::jsonb)
        AS p(id uuid, status recipient_status, attempts integer, "setLastError" boolean, "lastError" text, "deliveredAt" timestamptz)
    ), changed AS (
      UPDATE recipients r
         SET status = p.status,
             attempts = coalesce(p.attempts, r.attempts),
             last_error = CASE WHEN p."setLastError" THEN p."lastError" ELSE r.last_error END,
             delivered_at = coalesce(p."deliveredAt", r.delivered_at),
             updated_at = now()
        FROM patch p
       WHERE r.id = p.id AND r.message_id = ${t.messageId}
    ), appended AS (
      INSERT INTO events (tenant_id, message_id, recipient_id, type, actor, detail)
      SELECT ${t.tenantId}, ${t.messageId}, (e.value->>'recipientId')::uuid, e.value->>'type', ${t.actor}, e.value->'detail'
        FROM jsonb_array_elements(${JSON.stringify(t.events)}::jsonb) WITH ORDINALITY AS e(value, n)
       ORDER BY e.n
      RETURNING id, type, recipient_id
    ), message AS (
      UPDATE messages SET status = ${t.messageStatus ?? null}::message_status, updated_at = now()
       WHERE id = ${t.messageId} AND ${t.messageStatus ?? null}::message_status IS NOT NULL
      RETURNING status, updated_at
    )${sql.join(also)}
    SELECT (SELECT coalesce(json_agg(a ORDER BY a.id), '[]'::json) FROM appended a) AS events, m.status, m.updated_at
      FROM (SELECT 1) one LEFT JOIN message m ON true`);
  // Drizzle hands raw statements' timestamps over as text.
  const row = result.rows[0]!;
  return {
    events: row.events.map((e) => ({ id: e.id, type: e.type, recipientId: e.recipient_id })),
    ...(row.status !== null && row.updated_at !== null && { message: { status: row.status, updatedAt: new Date(row.updated_at) } }),
  };
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

/**
 * A message's attachments, sealed bytes included, in position order. The bytes
 * come through COPY's binary format (src/db/copy-out.ts), not as encoded text:
 * the worker reads every attachment of every copy it sends.
 */
export async function findAttachments(db: DbOrTx, messageId: string): Promise<AttachmentRow[]> {
  const rows = await copyOutBinary(
    db,
    `SELECT id::text, message_id::text, position, size_bytes, sha256, content
       FROM attachments WHERE message_id = ${uuidLiteral(messageId)} ORDER BY position`,
  );
  return rows.map((fields) => {
    const [id, owner, position, sizeBytes, sha256, content] = fields as Buffer[]; // every column is NOT NULL
    return {
      id: id!.toString('latin1'),
      messageId: owner!.toString('latin1'),
      position: position!.readInt32BE(0),
      sizeBytes: sizeBytes!.readInt32BE(0),
      sha256: sha256!,
      content: content!,
    };
  });
}
