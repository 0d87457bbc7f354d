import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import type { RecipientRow } from '../db/schema.ts';
import type { SealedContent } from '../core/sealed-content.ts';
import { base64Lines } from '../smime/base64.ts';
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
  const root = new MailComposer(composerOptions(input)).compile();
  encodeAttachments(root, input.attachments);
  // nodemailer's own CRLF conversion (its `newline` option) is a JavaScript loop over every byte of the
  // base64 attachments, which already end their lines in CRLF; toCrlf finds the rare bare LF natively.
  return toCrlf(await root.build());
}

/** What nodemailer's composer is given for one copy. */
export function composerOptions(input: RenderInput): ConstructorParameters<typeof MailComposer>[0] {
  const mailbox = (m: { address: string; name?: string | null | undefined }) =>
    m.name ? { address: m.address, name: m.name } : m.address;
  return {
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
  };
}

/**
 * Gives each attachment's node its body already in base64 (native, one
 * buffer), behind the headers nodemailer builds for it: the same bytes as
 * nodemailer's own encoder, whose stream copies every 76-character line (about
 * 0.5 ms of the worker's main thread for a 200 KB payslip). A node is found by
 * the very Buffer it was given; test/unit/render-message.test.ts compares the
 * output with nodemailer's, byte for byte, so an upgrade that changes either
 * side fails there.
 */
function encodeAttachments(root: MimeNode, attachments: RenderInput['attachments']): void {
  const pending = new Set(attachments.map((a) => a.content));
  const visit = (node: MimeNode) => {
    const content = (node as MimeNode & { content?: unknown }).content;
    if (Buffer.isBuffer(content) && pending.delete(content)) {
      const body = base64Lines(content);
      // nodemailer puts the line break before the next boundary itself.
      node.setRaw(Buffer.concat([Buffer.from(`${node.buildHeaders()}\r\n\r\n`), body.subarray(0, Math.max(0, body.length - 2))]));
    }
    node.childNodes.forEach(visit);
  };
  visit(root);
}
