import type { EventRow, MessageRow, RecipientRow } from '../db/schema.ts';
import type { MessageMode, MessageStatus, RecipientKind, RecipientStatus } from './states.ts';

/** What callers see of a message: identifiers and delivery state, never content. */
export interface MessageView {
  id: string;
  status: MessageStatus;
  mode: MessageMode;
  from: string;
  reference: string | null;
  language: string;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string;
  /** Retention emptied the content (subject, bodies, attachments); metadata, logbook and evidence remain. */
  contentDeleted: boolean;
  contentDeletedAt: string | null;
  recipients: RecipientView[];
}

export interface RecipientView {
  id: string;
  address: string;
  kind: RecipientKind;
  status: RecipientStatus;
  attempts: number;
  lastError: string | null;
  deliveredAt: string | null;
}

export interface EventView {
  id: number;
  type: string;
  recipientId: string | null;
  actor: string;
  detail: Record<string, unknown>;
  createdAt: string;
}

export function toMessageView(message: MessageRow, recipients: RecipientRow[]): MessageView {
  return {
    id: message.id,
    status: message.status,
    mode: message.mode,
    from: message.fromAddress,
    reference: message.reference,
    language: message.language,
    sizeBytes: message.sizeBytes,
    createdAt: message.createdAt.toISOString(),
    updatedAt: message.updatedAt.toISOString(),
    contentDeleted: message.contentDeletedAt !== null,
    contentDeletedAt: message.contentDeletedAt?.toISOString() ?? null,
    recipients: recipients
      .filter((r) => r.messageId === message.id)
      .map((r) => ({
        id: r.id,
        address: r.address,
        kind: r.kind,
        status: r.status,
        attempts: r.attempts,
        lastError: r.lastError,
        deliveredAt: r.deliveredAt?.toISOString() ?? null,
      })),
  };
}

export function toEventView(e: EventRow): EventView {
  return {
    id: e.id,
    type: e.type,
    recipientId: e.recipientId,
    actor: e.actor,
    detail: e.detail,
    createdAt: e.createdAt.toISOString(),
  };
}
