import { listEvents } from '../db/repositories/events.ts';
import { findMessage, findRecipients, listMessages } from '../db/repositories/messages.ts';
import type { MessageRow } from '../db/schema.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';
import { toEventView, toMessageView, type EventView, type MessageView } from './message-view.ts';
import { authorize, type Principal } from './principal.ts';
import { messageStatuses, type MessageStatus } from './states.ts';

export async function getMessage(ctx: CoreContext, principal: Principal, id: string): Promise<MessageView> {
  authorize(principal, 'message:read');
  const message = await requireMessage(ctx, principal, id);
  return toMessageView(message, await findRecipients(ctx.db, [message.id]));
}

export interface ListQuery {
  status?: string | undefined;
  since?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

export interface MessagePage {
  items: MessageView[];
  nextCursor: string | null;
}

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

export async function listMessagePage(ctx: CoreContext, principal: Principal, query: ListQuery): Promise<MessagePage> {
  authorize(principal, 'message:read');
  const limit = query.limit ?? DEFAULT_PAGE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new AppError('invalid_field', `limit must be an integer from 1 to ${MAX_PAGE}`, { field: 'limit' });
  }
  if (query.status !== undefined && !messageStatuses.includes(query.status as MessageStatus)) {
    throw new AppError('invalid_field', `status must be one of ${messageStatuses.join(', ')}`, { field: 'status' });
  }
  const since = query.since === undefined ? undefined : parseInstant(query.since, 'since');
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const rows = await listMessages(ctx.db, {
    tenantId: principal.tenantId,
    limit: limit + 1,
    ...(query.status !== undefined && { status: query.status as MessageStatus }),
    ...(since && { since }),
    ...(after && { after }),
  });
  const page = rows.slice(0, limit);
  const recipients = await findRecipients(ctx.db, page.map((m) => m.id));
  const last = page.at(-1);
  return {
    items: page.map((m) => toMessageView(m, recipients)),
    nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

export async function getMessageEvents(ctx: CoreContext, principal: Principal, id: string): Promise<EventView[]> {
  authorize(principal, 'logbook:read');
  const message = await requireMessage(ctx, principal, id);
  return (await listEvents(ctx.db, principal.tenantId, message.id)).map(toEventView);
}

/** The caller's tenant's message; anything else, another tenant's included, is not_found. */
export async function requireMessage(ctx: CoreContext, principal: Principal, id: string): Promise<MessageRow> {
  const message = isUuid(id) ? await findMessage(ctx.db, principal.tenantId, id.toLowerCase()) : undefined;
  if (!message) throw new AppError('not_found', `message ${id} does not exist`, { id });
  return message;
}

function parseInstant(text: string, field: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new AppError('invalid_field', `${field} must be an ISO 8601 date or date-time`, { field });
  }
  return date;
}

function encodeCursor(m: MessageRow): string {
  return Buffer.from(JSON.stringify([m.createdAt.toISOString(), m.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (typeof id !== 'string' || !isUuid(id) || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw new AppError('invalid_field', 'cursor is not one this API returned', { field: 'cursor' });
  }
}
