import type { EventRow, RecipientRow } from './schema.ts';

/**
 * Rows as PostgreSQL's row_to_json / json_agg writes them, and their mapping to
 * the rows drizzle returns: for statements that bring a message's recipients or
 * events along as one JSON array instead of a join that repeats the message.
 * Timestamps arrive as ISO text with microseconds; Date keeps milliseconds, as
 * node-postgres' own parser does.
 */
export interface RecipientJson {
  id: string;
  message_id: string;
  tenant_id: string;
  position: number;
  kind: RecipientRow['kind'];
  address: string;
  display_name: string | null;
  status: RecipientRow['status'];
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
  updated_at: string;
}

export const recipientFromJson = (r: RecipientJson): RecipientRow => ({
  id: r.id,
  messageId: r.message_id,
  tenantId: r.tenant_id,
  position: r.position,
  kind: r.kind,
  address: r.address,
  displayName: r.display_name,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at),
  updatedAt: new Date(r.updated_at),
});

export interface EventJson {
  id: number;
  tenant_id: string;
  message_id: string;
  recipient_id: string | null;
  type: string;
  actor: string;
  detail: Record<string, unknown>;
  created_at: string;
}

export const eventFromJson = (e: EventJson): EventRow => ({
  id: e.id,
  tenantId: e.tenant_id,
  messageId: e.message_id,
  recipientId: e.recipient_id,
  type: e.type,
  actor: e.actor,
  detail: e.detail,
  createdAt: new Date(e.created_at),
});
