import { randomUUID } from 'node:crypto';
import { findMessageByIdempotencyKey, findRecipients } from '../db/repositories/messages.ts';
import { insertSubmission } from '../db/repositories/submissions.ts';
import type { AttachmentRow, MessageRow, RecipientRow } from '../db/schema.ts';
import type { CoreContext } from './context.ts';
import { AppError, asAppError, errorCodes, type ErrorCode } from './errors.ts';
import { messageModes, type MessageMode } from './states.ts';
import { EventType } from './event-types.ts';
import { toMessageView, type MessageView } from './message-view.ts';
import { actorOf, authorize, type Principal } from './principal.ts';
import { attachmentContext, sealContent } from './sealed-content.ts';
import { isDefaultProtection } from './protection.ts';
import { hashUnlockCode } from './unlock-code.ts';
import { submissionFingerprint, validateSubmission, type SubmissionInput, type ValidSubmission } from './submission.ts';

export interface SubmitOptions {
  idempotencyKey?: string | undefined;
  /** Which front door took the submission, for the logbook. */
  via: 'rest' | 'soap' | 'smtp';
  /**
   * `inbound`: mail from outside for the tenant's own domains (the SMTP door's
   * inbound S/MIME, docs/ingress.md). The sender may be anyone; every recipient
   * must be in the tenant's sender domains. Default `outbound`.
   */
  direction?: 'outbound' | 'inbound';
}

export interface SubmitResult {
  message: MessageView;
  /** True when an earlier submission with the same idempotency key and body was returned. */
  replayed: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** What one submission came to, for metrics (`ctx.metrics`). `code` names the refusal. */
export interface SubmissionReport {
  door: SubmitOptions['via'];
  mode: MessageMode | 'unknown';
  outcome: 'accepted' | 'replayed' | 'refused' | 'failed';
  code?: ErrorCode;
}

export interface SubmissionMetrics {
  submission(report: SubmissionReport): void;
}

/**
 * Validates and stores a submission. The message, its recipients and attachments
 * (sealed), one outbox job per recipient and the `submitted` logbook event are
 * written atomically (one statement); when this resolves, the message is committed.
 */
export async function submitMessage(
  ctx: CoreContext,
  principal: Principal,
  input: SubmissionInput,
  options: SubmitOptions,
): Promise<SubmitResult> {
  try {
    const result = await storeSubmission(ctx, principal, input, options);
    ctx.metrics?.submission({ door: options.via, mode: result.message.mode, outcome: result.replayed ? 'replayed' : 'accepted' });
    return result;
  } catch (error) {
    const { code } = asAppError(error);
    const mode = messageModes.find((m) => m === (input.mode ?? 'confidential')) ?? 'unknown';
    ctx.metrics?.submission({ door: options.via, mode, outcome: errorCodes[code].status < 500 ? 'refused' : 'failed', code });
    throw error;
  }
}

async function storeSubmission(
  ctx: CoreContext,
  principal: Principal,
  input: SubmissionInput,
  options: SubmitOptions,
): Promise<SubmitResult> {
  authorize(principal, 'message:submit');
  const key = options.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new AppError('invalid_header_value', 'the idempotency key must be 1 to 255 printable ASCII characters', {
      field: 'idempotencyKey',
    });
  }
  const submission = validateSubmission(input, ctx.limits);
  if (options.direction === 'inbound') checkRecipientsOwn(principal, submission.recipients);
  else checkSenderAllowed(principal, submission.from.address);
  const fingerprint = submissionFingerprint(submission);

  if (key !== undefined) {
    const earlier = await findMessageByIdempotencyKey(ctx.db, principal.tenantId, key);
    if (earlier) return replay(ctx, earlier, fingerprint);
  }

  const graph = buildMessageGraph(ctx, principal, submission, fingerprint, key);
  try {
    await insertSubmission(ctx.db, {
      ...graph,
      event: {
        type: EventType.submitted,
        actor: actorOf(principal),
        detail: {
          via: options.via,
          mode: submission.mode,
          recipients: submission.recipients.length,
          attachments: submission.attachments.map((a) => ({ sha256: a.sha256.toString('hex'), size: a.content.length })),
          sizeBytes: submission.sizeBytes,
          ...(options.direction === 'inbound' && { direction: 'inbound' }),
          ...(!isDefaultProtection(submission.protection) && { protection: submission.protection }),
          ...(submission.reference !== undefined && { reference: submission.reference }),
        },
      },
    });
  } catch (error) {
    // Two requests with one idempotency key raced; the other committed first.
    if (key !== undefined && (error as { code?: string }).code === '23505') {
      const earlier = await findMessageByIdempotencyKey(ctx.db, principal.tenantId, key);
      if (earlier) return replay(ctx, earlier, fingerprint);
    }
    throw error;
  }
  return { message: toMessageView(graph.message, graph.recipients), replayed: false };
}

function checkSenderAllowed(principal: Principal, from: string): void {
  if (principal.senderDomains.length === 0) return;
  const domain = from.slice(from.lastIndexOf('@') + 1);
  if (!principal.senderDomains.includes(domain)) {
    throw new AppError('sender_not_allowed', `this tenant may not send from ${domain}`, {
      field: 'from',
      allowed: principal.senderDomains,
    });
  }
}

function checkRecipientsOwn(principal: Principal, recipients: ReadonlyArray<{ address: string }>): void {
  const foreign = recipients.filter((r) => !principal.senderDomains.includes(r.address.slice(r.address.lastIndexOf('@') + 1)));
  if (foreign.length > 0) {
    throw new AppError('forbidden', `inbound mail is accepted only for this tenant's own domains, not ${foreign.map((r) => r.address).join(', ')}`, {
      field: 'to',
      allowed: principal.senderDomains,
    });
  }
}

async function replay(ctx: CoreContext, earlier: MessageRow, fingerprint: Buffer): Promise<SubmitResult> {
  if (!earlier.requestHash?.equals(fingerprint)) {
    throw new AppError('idempotency_conflict', 'this idempotency key was used for a different submission', {
      messageId: earlier.id,
    });
  }
  const recipients = await findRecipients(ctx.db, [earlier.id]);
  return { message: toMessageView(earlier, recipients), replayed: true };
}

function buildMessageGraph(
  ctx: CoreContext,
  principal: Principal,
  s: ValidSubmission,
  fingerprint: Buffer,
  idempotencyKey: string | undefined,
): { message: MessageRow; recipients: RecipientRow[]; attachments: AttachmentRow[] } {
  const messageId = randomUUID();
  const now = new Date();
  const attachments = s.attachments.map((a, position) => {
    const id = randomUUID();
    return {
      id,
      messageId,
      position,
      sizeBytes: a.content.length,
      sha256: a.sha256,
      content: ctx.cipher.seal(a.content, attachmentContext(id)),
      filename: a.filename,
      contentType: a.contentType,
    };
  });
  const content = sealContent(ctx.cipher, messageId, {
    subject: s.subject,
    ...(s.text !== undefined && { text: s.text }),
    ...(s.html !== undefined && { html: s.html }),
    ...(s.from.name !== undefined && { fromName: s.from.name }),
    attachments: attachments.map(({ id, filename, contentType }) => ({ id, filename, contentType })),
    ...(!isDefaultProtection(s.protection) && { protection: s.protection }),
    ...(s.unlockCode !== undefined && { unlockCode: hashUnlockCode(s.unlockCode) }),
  });
  return {
    message: {
      id: messageId,
      tenantId: principal.tenantId,
      status: 'accepted' as const,
      mode: s.mode,
      fromAddress: s.from.address,
      language: s.language,
      reference: s.reference ?? null,
      content,
      sizeBytes: s.sizeBytes,
      submittedBy: principal.keyId,
      idempotencyKey: idempotencyKey ?? null,
      requestHash: fingerprint,
      contentDeletedAt: null,
      createdAt: now,
      updatedAt: now,
    },
    recipients: s.recipients.map((r, position) => ({
      id: randomUUID(),
      messageId,
      tenantId: principal.tenantId,
      position,
      kind: r.kind,
      address: r.address,
      displayName: r.name ?? null,
      status: 'accepted' as const,
      attempts: 0,
      lastError: null,
      deliveredAt: null,
      updatedAt: now,
    })),
    attachments: attachments.map(({ filename: _f, contentType: _c, ...row }) => row),
  };
}
