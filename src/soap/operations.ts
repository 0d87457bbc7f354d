import { cancelMessage } from '../core/cancel-message.ts';
import type { CoreContext } from '../core/context.ts';
import { decodeBase64Strict } from '../core/encoding.ts';
import { AppError } from '../core/errors.ts';
import { getMessage, getMessageEvents, listMessagePage } from '../core/message-queries.ts';
import { getProof } from '../core/proofs.ts';
import type { EventView, MessageView } from '../core/message-view.ts';
import type { Principal } from '../core/principal.ts';
import { submitMessage } from '../core/submit-message.ts';
import { getReadReceipts } from '../core/receipts.ts';
import type { AttachmentInput, SubmissionInput } from '../core/submission.ts';
import type { LiftedContents } from './base64-lift.ts';
import type { OperationName } from './wsdl.ts';

/** node-soap's parse of an operation's request element. */
export type SoapArgs = Record<string, unknown>;
/** `lifted`: attachment contents the route took out of the envelope before node-soap parsed it (base64-lift.ts). */
export type Operation = (args: SoapArgs, principal: Principal, lifted?: LiftedContents) => Promise<object>;

/**
 * The SOAP operations: each maps the parsed request to a core call and the
 * result to the WSDL's response element. Rules and error codes are the core's;
 * nothing here decides anything about a message.
 */
export function soapOperations(core: CoreContext): Record<OperationName, Operation> {
  return {
    async SubmitMessage(args, principal, lifted) {
      const { idempotencyKey, ...input } = submissionOf(args, lifted);
      const result = await submitMessage(core, principal, input, { idempotencyKey, via: 'soap' });
      return { message: messageElement(result.message), replayed: result.replayed };
    },
    async GetMessageStatus(args, principal) {
      only(args, ['messageId']);
      return { message: messageElement(await getMessage(core, principal, requiredText(args, 'messageId'))) };
    },
    async ListMessages(args, principal) {
      only(args, ['status', 'since', 'cursor', 'limit']);
      const page = await listMessagePage(core, principal, {
        status: optionalText(args, 'status'),
        since: optionalText(args, 'since'),
        cursor: optionalText(args, 'cursor'),
        limit: args.limit === undefined || args.limit === null ? undefined : Number(args.limit),
      });
      return { message: page.items.map(messageElement), ...(page.nextCursor !== null && { nextCursor: page.nextCursor }) };
    },
    async GetMessageEvents(args, principal) {
      only(args, ['messageId']);
      return { event: (await getMessageEvents(core, principal, requiredText(args, 'messageId'))).map(eventElement) };
    },
    async CancelMessage(args, principal) {
      only(args, ['messageId']);
      return { message: messageElement(await cancelMessage(core, principal, requiredText(args, 'messageId'))) };
    },
    async GetReadReceipts(args, principal) {
      only(args, ['messageId']);
      const receipts = await getReadReceipts(core, principal, requiredText(args, 'messageId'));
      return { receipt: receipts.map((r) => ({ id: r.id, recipientId: r.recipientId, address: r.address, type: r.type, createdAt: r.createdAt })) };
    },
    async GetDeliveryProof(args, principal) {
      only(args, ['proofId']);
      const { proof, signed } = await getProof(core, principal, requiredText(args, 'proofId'));
      return {
        proof: {
          id: proof.id,
          messageId: proof.messageId,
          ...(proof.recipientId !== null && { recipientId: proof.recipientId }),
          type: proof.type,
          createdAt: proof.createdAt,
          evidence: signed.toString('base64'),
        },
      };
    },
  };
}

const submissionFields = [
  'mode', 'from', 'fromName', 'to', 'cc', 'subject', 'text', 'html', 'attachment', 'reference', 'language', 'idempotencyKey', 'unlockCode',
] as const;

/** Request element to the core's input: repeated elements to lists, base64Binary to bytes. */
function submissionOf(args: SoapArgs, lifted: LiftedContents | undefined): SubmissionInput & { idempotencyKey: string | undefined } {
  only(args, submissionFields);
  const { attachment, to, cc, idempotencyKey, ...rest } = args;
  return {
    ...rest,
    ...(to !== undefined && { to: list(to) }),
    ...(cc !== undefined && { cc: list(cc) }),
    attachments: list(attachment).map((a, i) => attachmentOf(a, i, lifted)),
    idempotencyKey: optionalText(args, 'idempotencyKey'),
  };
}

function attachmentOf(value: unknown, i: number, lifted: LiftedContents | undefined): AttachmentInput {
  const field = `attachments[${i}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('invalid_field', `${field} must have filename, contentType and content`, { field });
  }
  const a = value as SoapArgs;
  only(a, ['filename', 'contentType', 'content'], field);
  if (a.content === undefined) throw new AppError('missing_field', `"${field}.content" is required`, { field: `${field}.content` });
  // The base64 text itself when the route lifted it out of the envelope, else what node-soap parsed.
  const content = (typeof a.content === 'string' && lifted?.get(a.content)) || a.content;
  return {
    filename: a.filename,
    contentType: a.contentType,
    // An empty <content/> is an empty file.
    content: content === null ? Buffer.alloc(0) : decodeBase64Strict(content, `${field}.content`),
  };
}

function messageElement(m: MessageView) {
  return {
    id: m.id,
    status: m.status,
    mode: m.mode,
    from: m.from,
    ...(m.reference !== null && { reference: m.reference }),
    language: m.language,
    sizeBytes: m.sizeBytes,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    recipient: m.recipients.map((r) => ({
      id: r.id,
      address: r.address,
      kind: r.kind,
      status: r.status,
      attempts: r.attempts,
      ...(r.lastError !== null && { lastError: r.lastError }),
      ...(r.deliveredAt !== null && { deliveredAt: r.deliveredAt }),
    })),
  };
}

function eventElement(e: EventView) {
  return {
    id: e.id,
    type: e.type,
    ...(e.recipientId !== null && { recipientId: e.recipientId }),
    actor: e.actor,
    detail: JSON.stringify(e.detail),
    createdAt: e.createdAt,
  };
}

/** Like REST's additionalProperties: false — an element the contract does not have is refused, not ignored. */
function only(args: SoapArgs, known: readonly string[], prefix?: string): void {
  const unknown = Object.keys(args).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const fields = unknown.map((k) => (prefix ? `${prefix}.${k}` : k));
    throw new AppError('unknown_field', `unknown field${fields.length > 1 ? 's' : ''}: ${fields.join(', ')}`, { fields });
  }
}

function requiredText(args: SoapArgs, name: string): string {
  const value = optionalText(args, name);
  if (value === undefined || value === '') throw new AppError('missing_field', `"${name}" is required`, { field: name });
  return value;
}

function optionalText(args: SoapArgs, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AppError('invalid_field', `${name} must be text`, { field: name });
  // Identifiers and filters, never content: pretty-printed XML may wrap them in whitespace.
  return value.trim();
}

const list = (value: unknown): unknown[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);
