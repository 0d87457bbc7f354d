import { listEvents } from '../db/repositories/events.ts';
import { findRecipients } from '../db/repositories/messages.ts';
import type { CoreContext } from './context.ts';
import { EventType } from './event-types.ts';
import { requireMessage } from './message-queries.ts';
import { authorize, type Principal } from './principal.ts';

/** Logbook events that are read receipts: what a recipient did with a delivered message. */
export const receiptTypes = [EventType.opened, EventType.accepted_by_recipient, EventType.refused, EventType.expired] as const;
export type ReceiptType = (typeof receiptTypes)[number];

export interface ReceiptView {
  /** The logbook event's id: stable, so a receipt is recognisable across calls. */
  id: string;
  recipientId: string;
  address: string;
  type: ReceiptType;
  createdAt: string;
}

/**
 * A message's read receipts, from its logbook: per recipient the first event of
 * each receipt type (first open; for registered mail the acceptance, refusal or
 * expiry), oldest first. Submitters and auditors of the tenant; others: not_found.
 */
export async function getReadReceipts(ctx: Pick<CoreContext, 'db'>, principal: Principal, id: string): Promise<ReceiptView[]> {
  authorize(principal, 'message:read');
  const message = await requireMessage(ctx as CoreContext, principal, id);
  const recipients = await findRecipients(ctx.db, [message.id]);
  const seen = new Set<string>();
  const receipts: ReceiptView[] = [];
  for (const event of await listEvents(ctx.db, principal.tenantId, message.id, 100_000)) {
    if (!event.recipientId || !(receiptTypes as readonly string[]).includes(event.type)) continue;
    const key = `${event.recipientId}:${event.type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    receipts.push({
      id: String(event.id),
      recipientId: event.recipientId,
      address: recipients.find((r) => r.id === event.recipientId)?.address ?? '',
      type: event.type as ReceiptType,
      createdAt: event.createdAt.toISOString(),
    });
  }
  return receipts;
}
