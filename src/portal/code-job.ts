import { accountAddress, issueRegistrationCode, type AccountPolicy } from '../core/portal-accounts.ts';
import { openContent } from '../core/sealed-content.ts';
import type { Language } from '../core/states.ts';
import { transportPolicyFor } from '../core/transport-policies.ts';
import { findRecipients } from '../db/repositories/messages.ts';
import { messages } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import type { MailTransport } from '../transport/smtp-transport.ts';
import type { JobResult } from '../worker/worker.ts';
import { protectMessage, type ProtectionDeps } from '../worker/protect-message.ts';
import { eq } from 'drizzle-orm';
import { renderCodeMail } from './code-mail.ts';

export interface CodeJobDeps extends ProtectionDeps {
  transport: MailTransport;
  accounts: AccountPolicy;
  backoff: BackoffPolicy;
}

/** Temporary failures are retried for this many attempts; the recipient can also ask again after a minute. */
const MAX_ATTEMPTS = 5;

/**
 * The `portal_code` job: creates a fresh one-time code for the recipient's
 * address (only its hash is stored), mails it through the worker's
 * MailTransport From the message's sender, signed like a notification, and
 * completes. A temporary SMTP failure is retried with backoff; the code never
 * sits in the outbox.
 */
export async function codeJob(deps: CodeJobDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const [message] = job.messageId ? await deps.db.select().from(messages).where(eq(messages.id, job.messageId)) : [];
  const recipient = message && (await findRecipients(deps.db, [message.id])).find((r) => r.id === job.recipientId);
  if (!message || !recipient) {
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const content = openContent(deps.cipher, message.id, message.content);
  const { code, expiresAt } = await issueRegistrationCode(deps.db, accountAddress(recipient.address), deps.accounts);
  const raw = await renderCodeMail({
    from: { address: message.fromAddress, name: content.fromName },
    to: recipient.address,
    language: message.language as Language,
    code,
    expiresAt,
    messageId: message.id,
  });
  const signed = await protectMessage(deps, message, recipient, raw, undefined, 'registration code: nothing of the message', { sign: content.protection?.sign ?? true });
  const policy = await transportPolicyFor(deps, message.tenantId, recipient.address);
  const outcome = await deps.transport.send(signed.raw, { from: message.fromAddress, to: recipient.address, policy });
  if (outcome.kind === 'temporary' && job.attempts < MAX_ATTEMPTS) {
    log.warn({ reason: outcome.reason }, 'registration code not handed over; trying again');
    await rescheduleJob(deps.db, job.id, retryDelaySeconds(job.attempts, deps.backoff));
    return 'retrying';
  }
  if (outcome.kind !== 'delivered') log.warn({ reason: outcome.reason }, 'registration code could not be handed over');
  await completeJob(deps.db, job.id);
  return outcome.kind === 'delivered' ? 'delivered' : 'failed';
}
