import type { DbOrTx } from '../db/client.ts';
import { appendEvents } from '../db/repositories/events.ts';
import { findRecipients, lockMessage, updateMessageStatus, updateRecipient } from '../db/repositories/messages.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { AppError } from './errors.ts';
import type { EventType } from './event-types.ts';
import { isEvidenceWorthy } from '../evidence/event-mapping.ts';
import { enqueueJob } from '../outbox/enqueue.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import { enqueueWebhookNotifications } from './webhooks.ts';
import type { SettingsCache } from './settings-cache.ts';
import { canTransition, summariseStatus, type RecipientStatus } from './states.ts';

export interface RecipientChange {
  recipientId: string;
  to: RecipientStatus;
  event: { type: EventType; detail?: Record<string, unknown> };
  attempts?: number;
  lastError?: string | null;
}

/** Decides the changes from the locked message and its recipients as they are now; may throw to refuse. */
export type TransitionPlan = (message: MessageRow, recipients: readonly RecipientRow[]) => RecipientChange[];

/**
 * The one way a recipient's status changes. Locks the message row first, so
 * concurrent changes to one message's recipients serialise and the message's
 * summary status is computed from what is committed; `plan` sees the locked
 * state; one logbook event is written per change.
 */
export async function transitionRecipients(
  tx: DbOrTx,
  messageId: string,
  actor: string,
  plan: TransitionPlan | RecipientChange[],
  /** The worker's settings cache: whether the tenant has a webhook, without a query per change. */
  options: { settings?: SettingsCache | undefined } = {},
): Promise<{ message: MessageRow; recipients: RecipientRow[]; changes: RecipientChange[] }> {
  const message = await lockMessage(tx, messageId);
  if (!message) throw new AppError('not_found', `message ${messageId} does not exist`);
  const recipients = await findRecipients(tx, [messageId]);
  const changes = typeof plan === 'function' ? plan(message, recipients) : plan;
  for (const change of changes) {
    const recipient = recipients.find((r) => r.id === change.recipientId);
    if (!recipient) throw new Error(`recipient ${change.recipientId} is not part of message ${messageId}`);
    if (!canTransition(recipient.status, change.to)) {
      throw new Error(`recipient ${recipient.id}: ${recipient.status} -> ${change.to} is not a valid transition`);
    }
    const patch = {
      status: change.to,
      ...(change.attempts !== undefined && { attempts: change.attempts }),
      ...(change.lastError !== undefined && { lastError: change.lastError }),
      ...(change.to === 'delivered' && { deliveredAt: new Date() }),
    };
    await updateRecipient(tx, recipient.id, patch);
    Object.assign(recipient, patch);
  }
  const appended = await appendEvents(
    tx,
    changes.map((c) => ({
      tenantId: message.tenantId,
      messageId,
      recipientId: c.recipientId,
      type: c.event.type,
      actor,
      detail: c.event.detail ?? {},
    })),
  );
  // Evidence for these events is issued by the worker, owed from this commit on (docs/evidence.md).
  if (changes.some((c) => isEvidenceWorthy(c.event.type))) await enqueueJob(tx, { kind: JobKind.evidence, messageId });
  // Webhook notifications for these events, when the tenant has a webhook (docs/webhooks.md).
  await enqueueWebhookNotifications({ db: tx, ...options }, message.tenantId, messageId, appended);
  const status = summariseStatus(recipients.map((r) => r.status));
  if (status !== message.status) {
    Object.assign(message, await updateMessageStatus(tx, messageId, status));
  }
  return { message, recipients, changes };
}
