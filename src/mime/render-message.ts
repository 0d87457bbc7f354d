import MailComposer from 'nodemailer/lib/mail-composer';
import type { RecipientRow } from '../db/schema.ts';
import type { SealedContent } from '../core/sealed-content.ts';
import { toCrlf } from '../smime/canonical.ts';

export interface RenderInput {
  messageId: string;
  /** The recipient this copy is for; its id makes the Message-ID stable across retries. */
  recipient: Pick<RecipientRow, 'id'>;
  from: { address: string; name?: string | undefined };
  to: Array<{ address: string; name?: string | null }>;
  cc: Array<{ address: string; name?: string | null }>;
  content: SealedContent;
  attachments: Array<{ filename: string; contentType: string; content: Buffer }>;
  submittedAt: Date;
  messageIdDomain: string;
}

/** RFC 5322 Message-ID of one recipient's copy: stable, so a retried copy is recognisably the same. */
export const rfc5322MessageId = (recipientId: string, domain: string) => `<${recipientId}@${domain}>`;

/**
 * Renders one recipient's copy as RFC 5322 bytes with nodemailer's composer.
 * Attachments are base64 (never 8bit), line endings CRLF, so the bytes can be
 * signed later without relays breaking the signature.
 */
export async function renderMessage(input: RenderInput): Promise<Buffer> {
  const mailbox = (m: { address: string; name?: string | null | undefined }) =>
    m.name ? { address: m.address, name: m.name } : m.address;
  const composer = new MailComposer({
    from: mailbox(input.from),
    to: input.to.map(mailbox),
    ...(input.cc.length > 0 && { cc: input.cc.map(mailbox) }),
    subject: input.content.subject,
    ...(input.content.text !== undefined && { text: input.content.text }),
    ...(input.content.html !== undefined && { html: input.content.html }),
    attachments: input.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      contentTransferEncoding: 'base64',
    })),
    messageId: rfc5322MessageId(input.recipient.id, input.messageIdDomain),
    date: input.submittedAt,
    headers: { 'X-Sealpost-Message-Id': input.messageId },
  });
  // nodemailer's own CRLF conversion (its `newline` option) is a JavaScript loop over every byte of the
  // base64 attachments, which already end their lines in CRLF; toCrlf finds the rare bare LF natively.
  return toCrlf(await composer.compile().build());
}
