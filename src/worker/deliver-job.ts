import type { Db } from '../db/client.ts';
import { findAttachments } from '../db/repositories/messages.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { EventType } from '../core/event-types.ts';
import { pendingStatuses } from '../core/states.ts';
import { attachmentContext, openContent } from '../core/sealed-content.ts';
import { transitionRecipients, type RecipientChange } from '../core/transition.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import type { JobResult } from './worker.ts';
import { renderMessage } from '../mime/render-message.ts';
import { protectMessage, type ProtectionDeps } from './protect-message.ts';
import type { MailTransport } from '../transport/smtp-transport.ts';
import type { DeliveryOutcome } from '../transport/smtp-outcome.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { Logger } from '../logger.ts';

export interface DeliveryDeps extends ProtectionDeps {
  db: Db;
  cipher: ContentCipher;
  transport: MailTransport;
  workerId: string;
  messageIdDomain: string;
  backoff: BackoffPolicy;
  retryWindowSeconds: number;
}

/**
 * One recipient's delivery, in three stages: begin (mark processing, committed
 * before anything leaves), render and send (no transaction held), settle (record
 * the outcome and remove or reschedule the job, in one transaction).
 */
export async function deliverJob(deps: DeliveryDeps, claimed: ClaimedJob, log: Logger): Promise<JobResult> {
  const job = deliveryJob(claimed);
  const begun = await begin(deps, job);
  if (!begun) return 'skipped';
  const { message, recipient, recipients } = begun;

  let outcome: DeliveryOutcome;
  let protection: Record<string, unknown> | undefined;
  try {
    const rendered = await protectMessage(deps, message, recipient, await render(deps, message, recipient, recipients));
    protection = rendered.detail;
    outcome = await deps.transport.send(rendered.raw, { from: message.fromAddress, to: recipient.address });
  } catch (error) {
    // Content unreadable (a wrong master key) or a signing key S/MIME cannot use: an operator can fix either, so retry.
    log.error({ err: error }, 'could not render, sign or encrypt the message');
    outcome = { kind: 'temporary', reason: 'the message could not be rendered, signed or encrypted for delivery' };
  }
  return settle(deps, job, message, recipient, outcome, protection);
}

/** A `deliver` job always names its message and recipient (src/db/repositories/submissions.ts queues them). */
type DeliveryJob = ClaimedJob & { messageId: string; recipientId: string };

function deliveryJob(job: ClaimedJob): DeliveryJob {
  if (!job.messageId || !job.recipientId) throw new Error(`deliver job ${job.id} names no message or recipient`);
  return job as DeliveryJob;
}

async function begin(deps: DeliveryDeps, job: DeliveryJob) {
  return deps.db.transaction(async (tx) => {
    const result = await transitionRecipients(tx, job.messageId, `worker:${deps.workerId}`, (_message, recipients) => {
      const recipient = recipients.find((r) => r.id === job.recipientId);
      // Cancelled or settled while queued: nothing is owed any more.
      if (!recipient || !pendingStatuses.includes(recipient.status)) return [];
      const changes: RecipientChange[] = [];
      if (job.reclaimed && recipient.status === 'processing') {
        // The previous holder died after starting: it may have handed the message over already.
        changes.push({ recipientId: recipient.id, to: 'processing', event: { type: EventType.lease_expired, detail: { possibleDuplicate: true } } });
      }
      changes.push({
        recipientId: recipient.id,
        to: 'processing',
        attempts: job.attempts,
        event: { type: EventType.processing, detail: { attempt: job.attempts, worker: deps.workerId } },
      });
      return changes;
    });
    if (result.changes.length === 0) {
      await completeJob(tx, job.id);
      return undefined;
    }
    const recipient = result.recipients.find((r) => r.id === job.recipientId)!;
    return { message: result.message, recipients: result.recipients, recipient };
  });
}

async function render(deps: DeliveryDeps, message: MessageRow, recipient: RecipientRow, recipients: RecipientRow[]): Promise<Buffer> {
  const content = openContent(deps.cipher, message.id, message.content);
  const stored = await findAttachments(deps.db, message.id);
  const attachments = content.attachments.map((meta) => {
    const row = stored.find((s) => s.id === meta.id);
    if (!row) throw new Error(`attachment ${meta.id} of message ${message.id} is missing`);
    return { filename: meta.filename, contentType: meta.contentType, content: deps.cipher.open(row.content, attachmentContext(row.id)) };
  });
  const mailbox = (r: RecipientRow) => ({ address: r.address, name: r.displayName });
  return renderMessage({
    messageId: message.id,
    recipient,
    from: { address: message.fromAddress, name: content.fromName },
    to: recipients.filter((r) => r.kind === 'to').map(mailbox),
    cc: recipients.filter((r) => r.kind === 'cc').map(mailbox),
    content,
    attachments,
    submittedAt: message.createdAt,
    messageIdDomain: deps.messageIdDomain,
  });
}

async function settle(
  deps: DeliveryDeps,
  job: DeliveryJob,
  message: MessageRow,
  recipient: RecipientRow,
  outcome: DeliveryOutcome,
  protection: Record<string, unknown> | undefined,
): Promise<JobResult> {
  const actor = `worker:${deps.workerId}`;
  const ageSeconds = (Date.now() - message.createdAt.getTime()) / 1000;
  const giveUp = outcome.kind === 'permanent' || (outcome.kind === 'temporary' && ageSeconds >= deps.retryWindowSeconds);

  return deps.db.transaction(async (tx) => {
    if (outcome.kind === 'delivered') {
      await transitionRecipients(tx, message.id, actor, [
        {
          recipientId: recipient.id,
          to: 'delivered',
          lastError: null,
          event: {
            type: EventType.delivered,
            detail: {
              attempt: job.attempts,
              response: outcome.response,
              ...(outcome.queueId && { queueId: outcome.queueId }),
              ...(protection && { smime: protection }),
            },
          },
        },
      ]);
      await completeJob(tx, job.id);
      return 'delivered';
    }
    const detail = {
      attempt: job.attempts,
      reason: outcome.reason,
      ...(outcome.code && { code: outcome.code }),
      ...(outcome.responseCode && { responseCode: outcome.responseCode }),
    };
    if (giveUp) {
      await transitionRecipients(tx, message.id, actor, [
        {
          recipientId: recipient.id,
          to: 'failed',
          lastError: outcome.reason,
          event: { type: EventType.failed, detail: { ...detail, permanent: outcome.kind === 'permanent' } },
        },
      ]);
      await completeJob(tx, job.id);
      return 'failed';
    }
    const delay = retryDelaySeconds(job.attempts, deps.backoff);
    await transitionRecipients(tx, message.id, actor, [
      {
        recipientId: recipient.id,
        to: 'retrying',
        lastError: outcome.reason,
        event: { type: EventType.retry_scheduled, detail: { ...detail, retryInSeconds: delay } },
      },
    ]);
    await rescheduleJob(tx, job.id, delay);
    return 'retrying';
  });
}
