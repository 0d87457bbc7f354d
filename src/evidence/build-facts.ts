import { createHash } from 'node:crypto';
import type { SealedContent } from '../core/sealed-content.ts';
import type { EventRow, MessageRow, RecipientRow } from '../db/schema.ts';
import { rfc5322MessageId } from '../mime/render-message.ts';
import { evidenceTypeOf } from './event-mapping.ts';
import type { EvidenceFacts } from './evidence-facts.ts';

export interface FactsInput {
  evidenceId: string;
  event: EventRow;
  message: MessageRow;
  recipients: readonly RecipientRow[];
  content: SealedContent;
  attachments: ReadonlyArray<{ id: string; sizeBytes: number; sha256: Buffer }>;
  issuer: { name: string; certificateSha256: string };
  policyId: string;
  messageIdDomain: string;
  chain: { sequence: number; previousDigest: string };
  issuedAt: Date;
}

/** The facts of one event's evidence; undefined for an event type that yields none. */
export function buildFacts(input: FactsInput): EvidenceFacts | undefined {
  const { event, message, content } = input;
  const type = evidenceTypeOf(event.type, event.detail);
  if (!type) return undefined;
  const about = event.recipientId ? input.recipients.filter((r) => r.id === event.recipientId) : input.recipients;
  return {
    evidenceId: input.evidenceId,
    type,
    event: { id: event.id, type: event.type, time: event.createdAt.toISOString(), actor: event.actor },
    reason: reasonOf(event),
    submissionTime: message.createdAt.toISOString(),
    policyId: input.policyId,
    issuer: input.issuer,
    sender: { address: message.fromAddress, ...(content.fromName && { name: content.fromName }) },
    recipients: about.map((r) => ({
      id: r.id,
      address: r.address,
      ...(r.displayName && { name: r.displayName }),
      kind: r.kind,
      internetMessageId: rfc5322MessageId(r.id, input.messageIdDomain),
    })),
    message: { id: message.id, ...(message.reference && { reference: message.reference }), mode: message.mode, language: message.language },
    content: {
      digest: contentDigest(content).toString('base64'),
      parts: content.attachments.map((meta) => {
        const stored = input.attachments.find((a) => a.id === meta.id);
        if (!stored) throw new Error(`attachment ${meta.id} of message ${message.id} is missing`);
        return { id: meta.id, filename: meta.filename, contentType: meta.contentType, size: stored.sizeBytes, digest: stored.sha256.toString('base64') };
      }),
    },
    transport: transportOf(event),
    chain: input.chain,
    issuedAt: input.issuedAt.toISOString(),
  };
}

/**
 * What "the content" digest covers: the JSON object of the submitted subject,
 * text and html (absent ones left out), keys in that order, no whitespace,
 * UTF-8. A sender can recompute it from what it submitted (docs/evidence.md).
 */
export function canonicalContent(content: Pick<SealedContent, 'subject' | 'text' | 'html'>): Buffer {
  const ordered = {
    ...(content.html !== undefined && { html: content.html }),
    subject: content.subject,
    ...(content.text !== undefined && { text: content.text }),
  };
  return Buffer.from(JSON.stringify(ordered), 'utf8');
}

export const contentDigest = (content: Pick<SealedContent, 'subject' | 'text' | 'html'>) =>
  createHash('sha256').update(canonicalContent(content)).digest();

const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);

function reasonOf(event: EventRow): EvidenceFacts['reason'] {
  const d = event.detail;
  const details = text(d.reason) ?? text(d.lastError);
  if (event.type === 'failed') return { code: d.permanent === true ? 'permanent_failure' : 'retry_window_exhausted', details: details ?? 'delivery failed' };
  if (event.type === 'refused') return { code: 'refused_by_recipient', details: details ?? 'the recipient refused the message' };
  if (event.type === 'expired') return { code: 'acceptance_period_expired', details: details ?? 'not accepted within the acceptance period' };
  return undefined;
}

/** The next hop's answer, copied from the event detail as text (never content). */
function transportOf(event: EventRow): Record<string, string> | undefined {
  const d = event.detail;
  const picked: Record<string, string> = {};
  for (const name of ['route', 'response', 'queueId', 'code', 'responseCode', 'attempt']) {
    const value = text(d[name]);
    if (value !== undefined) picked[name] = value;
  }
  return Object.keys(picked).length > 0 ? picked : undefined;
}
