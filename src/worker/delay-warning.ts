import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { appendEvents } from '../db/repositories/events.ts';
import { events, type MessageRow, type RecipientRow } from '../db/schema.ts';
import { EventType } from '../core/event-types.ts';

/**
 * The `delayed` logbook event: once per recipient, when a temporary failure comes
 * after the warning time (RFC 3464's "delayed" notice, as a logbook entry).
 * Not a state change: the recipient stays `retrying`.
 */
export async function delayWarning(
  tx: DbOrTx,
  message: MessageRow,
  recipient: RecipientRow,
  ageSeconds: number,
  warningSeconds: number | undefined,
  detail: Record<string, unknown> & { actor: string },
): Promise<void> {
  if (warningSeconds === undefined || ageSeconds < warningSeconds) return;
  const [already] = await tx
    .select({ found: sql<number>`1` })
    .from(events)
    .where(and(eq(events.messageId, message.id), eq(events.recipientId, recipient.id), eq(events.type, EventType.delayed)))
    .limit(1);
  if (already) return;
  const { actor, ...rest } = detail;
  await appendEvents(tx, [
    {
      tenantId: message.tenantId,
      messageId: message.id,
      recipientId: recipient.id,
      type: EventType.delayed,
      actor,
      detail: { ...rest, delayedSeconds: Math.round(ageSeconds), warningSeconds },
    },
  ]);
}
