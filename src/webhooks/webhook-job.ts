import { webhookSecretContext } from '../core/webhooks.ts';
import type { Db } from '../db/client.ts';
import { findWebhook, findWebhookEvent, insertWebhookDelivery } from '../db/repositories/webhooks.ts';
import type { Logger } from '../logger.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { JobResult } from '../worker/worker.ts';
import { webhookPayload } from './payload.ts';
import { postWebhook } from './post-webhook.ts';
import { webhookSignature } from './signature.ts';

export interface WebhookDeps {
  db: Db;
  cipher: ContentCipher;
  timeoutMs: number;
  backoff: BackoffPolicy;
  /** Failed attempts are retried until this long after the event, then given up. */
  retryWindowSeconds: number;
}

/**
 * A `webhook` job: POSTs one logbook event to the tenant's webhook as it is
 * configured now, signed. Each attempt is recorded in webhook_deliveries in the
 * same transaction that completes or reschedules the job: a 2xx completes it;
 * anything else is retried with backoff until the window after the event has
 * passed, then given up (outcome `failed`). A webhook removed meanwhile drops it.
 */
export async function webhookJob(deps: WebhookDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const eventId = Number(job.payload.eventId);
  const found = Number.isSafeInteger(eventId) ? await findWebhookEvent(deps.db, eventId) : undefined;
  if (!found) {
    log.error({ eventId: job.payload.eventId }, 'webhook job for an event that does not exist; removing it');
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const { event } = found;
  const webhook = await findWebhook(deps.db, event.tenantId);
  if (!webhook) {
    log.info({ eventId }, 'the tenant removed its webhook; event not sent');
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const secret = deps.cipher.open(webhook.secret, webhookSecretContext(event.tenantId)).toString('utf8');
  const body = JSON.stringify(webhookPayload(found));
  const timestamp = Math.floor(Date.now() / 1000);
  const attempt = await postWebhook(
    webhook.url,
    body,
    { 'sealpost-signature': webhookSignature(secret, body, timestamp), 'sealpost-event-id': String(event.id) },
    deps.timeoutMs,
  );
  const giveUp = !attempt.ok && (Date.now() - event.createdAt.getTime()) / 1000 >= deps.retryWindowSeconds;
  const outcome = attempt.ok ? 'delivered' : giveUp ? 'failed' : 'retrying';
  const host = new URL(webhook.url).host;
  await deps.db.transaction(async (tx) => {
    await insertWebhookDelivery(tx, {
      tenantId: event.tenantId,
      messageId: event.messageId,
      eventId: event.id,
      eventType: event.type,
      attempt: job.attempts,
      url: webhook.url,
      outcome,
      statusCode: attempt.statusCode,
      error: attempt.error,
      durationMs: attempt.durationMs,
    });
    if (outcome === 'retrying') await rescheduleJob(tx, job.id, retryDelaySeconds(job.attempts, deps.backoff));
    else await completeJob(tx, job.id);
  });
  const facts = { eventId, eventType: event.type, host, statusCode: attempt.statusCode, error: attempt.error, durationMs: attempt.durationMs };
  if (outcome === 'failed') log.warn(facts, 'webhook not accepted within the retry window; given up');
  else if (outcome === 'retrying') log.info(facts, 'webhook not accepted; will retry');
  return outcome;
}
