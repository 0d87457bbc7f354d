import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import * as qp from 'nodemailer/lib/qp';
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
 * Renders one recipient's copy as RFC 5322 bytes: nodemailer's composer decides
 * the structure and writes every header; `writeTree` writes the bodies and
 * boundaries around them. Attachments are base64 (never 8bit), line endings
 * CRLF, so the bytes can be signed later without relays breaking the signature.
 */
export async function renderMessage(input: RenderInput): Promise<Buffer> {
  const root = new MailComposer(composerOptions(input)).compile();
  const parts: Buffer[] = [];
  // A shape writeTree does not know (none that composerOptions asks for) is left to nodemailer's own build.
  const raw = writeTree(root, new Set(input.attachments.map((a) => a.content)), parts) ? endWithNewline(Buffer.concat(parts)) : await root.build();
  // nodemailer's own CRLF conversion (its `newline` option) is a JavaScript loop over every byte;
  // the bodies written here already end their lines in CRLF, and toCrlf finds the rare bare LF natively.
  return toCrlf(raw);
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
 * Writes `node` and what is below it into `parts`, byte for byte as
 * nodemailer's build would (test/unit/render-message.test.ts compares the two
 * over texts and attachments chosen to reach every encoding): each node's
 * headers as nodemailer builds them, then its body, encoded as those headers
 * say: attachments as base64 written natively, texts 7bit, quoted-printable or
 * base64 with nodemailer's own encoders. nodemailer's build pipes every node
 * through streams, about twice the CPU for a 200 KB payslip. False for a node
 * this does not know how to write.
 */
export function writeTree(node: MimeNode, attachments: ReadonlySet<Buffer>, parts: Buffer[]): boolean {
  const tree = node as MimeNode & { content?: unknown; multipart?: string | false; boundary?: string | false; childNodes: MimeNode[] };
  const head = Buffer.from(`${node.buildHeaders()}\r\n\r\n`);
  const encoding = String(node.getHeader('Content-Transfer-Encoding') ?? '').toLowerCase();
  if (tree.multipart) {
    if (tree.content !== undefined || !tree.boundary) return false;
    parts.push(head);
    for (const [i, child] of tree.childNodes.entries()) {
      parts.push(Buffer.from(`${i > 0 ? '\r\n' : ''}--${tree.boundary}\r\n`));
      if (!writeTree(child, attachments, parts)) return false;
    }
    parts.push(Buffer.from(`\r\n--${tree.boundary}--\r\n`));
    return true;
  }
  const content = tree.content;
  if (Buffer.isBuffer(content) && attachments.has(content) && encoding === 'base64') {
    parts.push(head, withoutFinalBreak(base64Lines(content)));
    return true;
  }
  if (typeof content !== 'string') return false;
  const bytes = Buffer.from(content, 'utf8');
  if (encoding === '7bit') parts.push(head, bytes);
  else if (encoding === 'quoted-printable') parts.push(head, Buffer.from(qp.wrap(qp.encode(bytes), 76), 'latin1'));
  else if (encoding === 'base64') parts.push(head, withoutFinalBreak(base64Lines(bytes)));
  else return false;
  return true;
}

/** nodemailer's base64 has no line break after its last line: the next boundary brings its own. */
const withoutFinalBreak = (lines: Buffer) => lines.subarray(0, Math.max(0, lines.length - 2));

/** As nodemailer's build ends a message: with a line break, if it did not end in one. */
function endWithNewline(raw: Buffer): Buffer {
  const last = raw[raw.length - 1];
  if (last === 0x0a) return raw;
  return Buffer.concat([raw, Buffer.from(last === 0x0d ? '\n' : '\r\n')]);
}
