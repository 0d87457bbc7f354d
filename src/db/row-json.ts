import pg from 'pg';
import type { EventRow, MessageRow, RecipientRow } from './schema.ts';

/**
 * Rows as PostgreSQL's row_to_json / json_agg writes them, and their mapping to
 * the rows drizzle returns: for statements that bring a message's recipients or
 * events along as one JSON array instead of a join that repeats the message.
 * Timestamps arrive as ISO text with microseconds; Date keeps milliseconds, as
 * node-postgres' own parser does. Bytea arrives as hex text (`\x…`).
 */
/** node-postgres's own bytea parser (hex or escape output), as drizzle's bytea columns get it. */
const parseBytea: (text: string) => Buffer = pg.types.getTypeParser(pg.types.builtins.BYTEA);

export interface MessageJson {
  id: string;
  tenant_id: string;
  status: MessageRow['status'];
  mode: MessageRow['mode'];
  from_address: string;
  language: string;
  reference: string | null;
  content: string;
  size_bytes: number;
  submitted_by: string;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: string;
  updated_at: string;
  content_deleted_at: string | null;
}

export const messageFromJson = (m: MessageJson): MessageRow => ({
  id: m.id,
  tenantId: m.tenant_id,
  status: m.status,
  mode: m.mode,
  fromAddress: m.from_address,
  language: m.language,
  reference: m.reference,
  content: parseBytea(m.content),
  sizeBytes: m.size_bytes,
  submittedBy: m.submitted_by,
  idempotencyKey: m.idempotency_key,
  requestHash: m.request_hash === null ? null : parseBytea(m.request_hash),
  createdAt: new Date(m.created_at),
  updatedAt: new Date(m.updated_at),
  contentDeletedAt: m.content_deleted_at === null ? null : new Date(m.content_deleted_at),
});

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
