import { isTransientDatabaseError, type Db } from '../db/client.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { EventType } from '../core/event-types.ts';
import { pendingStatuses } from '../core/states.ts';
import { transitionRecipients, type RecipientChange } from '../core/transition.ts';
import { completeJob, completeJobStatement } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import type { JobResult } from './worker.ts';
import { prepareCopy, type CopyDeps, type PreparedCopy } from './prepare-copy.ts';
import type { MailTransport } from '../transport/smtp-transport.ts';
import type { DeliveryOutcome } from '../transport/smtp-outcome.ts';
import { transportPolicyFor } from '../core/transport-policies.ts';
import { delayWarning } from './delay-warning.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { Logger } from '../logger.ts';

export interface DeliveryDeps extends CopyDeps {
  db: Db;
  cipher: ContentCipher;
  transport: MailTransport;
  workerId: string;
  messageIdDomain: string;
  backoff: BackoffPolicy;
  retryWindowSeconds: number;
  /** A temporary failure this long after submission writes one `delayed` event (DELIVERY_DELAY_WARNING_SECONDS). */
  delayWarningSeconds?: number;
  /** Told how each attempt settled and where it went (metrics), from the outcome in hand: no query. */
  onSettled?: (settled: DeliverySettled) => void;
}

/** A settled attempt: its result and the route and policy of its delivery record (absent when nothing was sent). */
export interface DeliverySettled {
  outcome: JobResult;
  route: string | undefined;
  policy: string | undefined;
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
  let protection: PreparedCopy['detail'] | undefined;
  try {
    const policy = await transportPolicyFor(deps, message.tenantId, recipient.address);
    const rendered = await prepareCopy(deps, message, recipient, recipients, policy);
    protection = rendered.detail;
    outcome = await deps.transport.send(rendered.raw, { from: message.fromAddress, to: recipient.address, policy });
  } catch (error) {
    // Content unreadable (a wrong master key) or a signing key S/MIME cannot use: an operator can fix either, so retry.
    log.error({ err: error }, 'could not render, sign or encrypt the message');
    outcome = { kind: 'temporary', reason: 'the message could not be rendered, signed or encrypted for delivery' };
  }
  // What happened must be recorded: a database away for a moment (restart, failover) is waited for,
  // rather than leaving the job to its lease, whose expiry would hand the copy over a second time.
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await settle(deps, job, message, recipient, outcome, protection);
      deps.onSettled?.({ outcome: result, route: outcome.record?.route, policy: outcome.record?.policy });
      return result;
    } catch (error) {
      if (attempt >= SETTLE_ATTEMPTS || !isTransientDatabaseError(error)) throw error;
      log.warn({ err: error, attempt, outcome: outcome.kind }, 'could not record the outcome (database unavailable); trying again');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 250 * 2 ** (attempt - 1))));
    }
  }
}

/** Tries at recording an outcome: about a minute of waits (0.25, 0.5, 1, then 2 s each). */
const SETTLE_ATTEMPTS = 30;

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
    }, { settings: deps.settings });
    if (result.changes.length === 0) {
      await completeJob(tx, job.id);
      return undefined;
    }
    const recipient = result.recipients.find((r) => r.id === job.recipientId)!;
    return { message: result.message, recipients: result.recipients, recipient };
  });
}

async function settle(
  deps: DeliveryDeps,
  job: DeliveryJob,
  message: MessageRow,
  recipient: RecipientRow,
  outcome: DeliveryOutcome,
  protection: PreparedCopy['detail'] | undefined,
): Promise<JobResult> {
  const actor = `worker:${deps.workerId}`;
  const withSettings = { settings: deps.settings };
  // A settled job is removed in the same statement as the change it settles.
  const andComplete = { ...withSettings, also: [completeJobStatement(job.id)] };
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
              ...(outcome.record && { record: outcome.record }),
              ...protection,
            },
          },
        },
      ], andComplete);
      return 'delivered';
    }
    const detail = {
      attempt: job.attempts,
      reason: outcome.reason,
      ...(outcome.code && { code: outcome.code }),
      ...(outcome.responseCode && { responseCode: outcome.responseCode }),
      ...(outcome.record && { record: outcome.record }),
    };
    if (giveUp) {
      await transitionRecipients(tx, message.id, actor, [
        {
          recipientId: recipient.id,
          to: 'failed',
          lastError: outcome.reason,
          event: { type: EventType.failed, detail: { ...detail, permanent: outcome.kind === 'permanent' } },
        },
      ], andComplete);
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
    ], withSettings);
    await delayWarning(tx, message, recipient, ageSeconds, deps.delayWarningSeconds, { ...detail, actor });
    await rescheduleJob(tx, job.id, delay);
    return 'retrying';
  });
}
