import { removeJobsForRecipients } from '../outbox/complete.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { EventType } from './event-types.ts';
import { toMessageView, type MessageView } from './message-view.ts';
import { actorOf, authorize, type Principal } from './principal.ts';
import { requireMessage } from './message-queries.ts';
import { cancellableStatuses } from './states.ts';
import { transitionRecipients } from './transition.ts';

/**
 * Cancels a message whose recipients are all still waiting for delivery (accepted
 * or retrying). Once any recipient is being delivered or has been, the message is
 * no longer the sender's to withdraw: 409, and nothing changes.
 */
export async function cancelMessage(ctx: CoreContext, principal: Principal, id: string): Promise<MessageView> {
  authorize(principal, 'message:cancel');
  const message = await requireMessage(ctx, principal, id);
  return ctx.db.transaction(async (tx) => {
    const result = await transitionRecipients(tx, message.id, actorOf(principal), (_message, recipients) => {
      const blocking = recipients.filter((r) => !cancellableStatuses.includes(r.status));
      if (blocking.length > 0) {
        throw new AppError('not_cancellable', 'the message can no longer be cancelled: delivery has started or ended', {
          recipients: blocking.map((r) => ({ id: r.id, status: r.status })),
        });
      }
      return recipients.map((r) => ({ recipientId: r.id, to: 'cancelled', event: { type: EventType.cancelled } }));
    });
    await removeJobsForRecipients(tx, result.recipients.map((r) => r.id));
    return toMessageView(result.message, result.recipients);
  });
}
