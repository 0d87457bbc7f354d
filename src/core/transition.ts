import type { SQL } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.ts';
import { lockMessageWithRecipients, writeTransition, type TransitionWrite } from '../db/repositories/messages.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { AppError } from './errors.ts';
import type { EventType } from './event-types.ts';
import { isEvidenceWorthy } from '../evidence/event-mapping.ts';
import { enqueueJobStatement } from '../outbox/enqueue.ts';
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
 * state; one logbook event is written per change, and the evidence and webhook
 * jobs those events owe are queued with them. Two round trips: the lock, which
 * reads the message and its recipients as well, then every write in one statement.
 */
export async function transitionRecipients(
  tx: DbOrTx,
  messageId: string,
  actor: string,
  plan: TransitionPlan | RecipientChange[],
  options: {
    /** The worker's settings cache: whether the tenant has a webhook, without a query per change. */
    settings?: SettingsCache | undefined;
    /** More statements to commit with the change, in its round trip (the deliver job's completeJobStatement). */
    also?: SQL[] | undefined;
  } = {},
): Promise<{ message: MessageRow; recipients: RecipientRow[]; changes: RecipientChange[] }> {
  const locked = await lockMessageWithRecipients(tx, messageId);
  if (!locked) throw new AppError('not_found', `message ${messageId} does not exist`);
  const { message, recipients } = locked;
  const changes = typeof plan === 'function' ? plan(message, recipients) : plan;
  const patches = new Map<string, TransitionWrite['recipients'][number]>();
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
    Object.assign(recipient, patch);
    // Two changes to one recipient (lease_expired, then processing) write its final columns once.
    patches.set(recipient.id, { ...patches.get(recipient.id), id: recipient.id, ...patch });
  }
  const status = summariseStatus(recipients.map((r) => r.status));
  if (changes.length === 0 && status === message.status && !options.also?.length) return { message, recipients, changes };
  // Evidence for these events is issued by the worker, owed from this commit on (docs/evidence.md).
  const owesEvidence = changes.some((c) => isEvidenceWorthy(c.event.type));
  const written = await writeTransition(tx, {
    messageId,
    tenantId: message.tenantId,
    actor,
    recipients: [...patches.values()],
    events: changes.map((c) => ({ recipientId: c.recipientId, type: c.event.type, detail: c.event.detail ?? {} })),
    messageStatus: status !== message.status ? status : undefined,
    also: [...(owesEvidence ? [enqueueJobStatement({ kind: JobKind.evidence, messageId })] : []), ...(options.also ?? [])],
  });
  if (written.message) Object.assign(message, written.message);
  // Webhook notifications for these events, when the tenant has a webhook (docs/webhooks.md).
  await enqueueWebhookNotifications({ db: tx, settings: options.settings }, message.tenantId, messageId, written.events);
  return { message, recipients, changes };
}
