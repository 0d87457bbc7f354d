import type { WebhookEvent } from '../db/repositories/webhooks.ts';

/** What a webhook receives about one event: identifiers, the outcome, never content. */
export interface WebhookPayload {
  /** The logbook event's id (also `Sealpost-Event-Id`): the same for every retry of this event. */
  id: string;
  type: string;
  messageId: string;
  recipientId: string | null;
  address: string | null;
  /** The sender's own reference given at submission, if any. */
  reference: string | null;
  occurredAt: string;
  detail: Record<string, string | number | boolean>;
}

/**
 * Detail keys passed on: how the copy travelled (`route`), how it was opened
 * (`via`), the attempt, and for failures the reason and SMTP codes. Anything
 * else in the logbook's detail (certificates, tokens, queue ids, TLS records)
 * stays out.
 */
const DETAIL_KEYS = ['route', 'via', 'attempt', 'reason', 'permanent', 'code', 'responseCode'] as const;

export function webhookPayload({ event, address, reference }: WebhookEvent): WebhookPayload {
  const detail: WebhookPayload['detail'] = {};
  for (const key of DETAIL_KEYS) {
    const value = event.detail[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') detail[key] = value;
  }
  return {
    id: String(event.id),
    type: event.type,
    messageId: event.messageId,
    recipientId: event.recipientId,
    address,
    reference,
    occurredAt: event.createdAt.toISOString(),
    detail,
  };
}
