import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { AppError } from '../core/errors.ts';
import type { Protection } from '../core/protection.ts';
import type { MessageMode } from '../core/states.ts';
import type { SubmissionInput } from '../core/submission.ts';
import { stripRoutingSuffix } from './subject-tags.ts';

/** One envelope recipient as RCPT TO gave it, with the routing suffix already removed. */
export interface EnvelopeRecipient {
  address: string;
}

export interface ParsedSubmission {
  input: SubmissionInput;
  /** From the Message-ID, so a client resending after a lost 250 does not submit twice. */
  idempotencyKey?: string;
}

export interface SubmissionChoice {
  subject: string;
  mode: MessageMode;
  protection: Protection;
}

/** The message as mailparser reads it: bodies decoded, attachments as bytes. */
export const parseMail = (raw: Buffer): Promise<ParsedMail> =>
  simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });

/**
 * A received message as the same submission the REST door builds: From from
 * the header (the envelope sender when there is none), recipients from the
 * envelope (which decides delivery), each `to` or `cc` as the headers list it
 * (a recipient in neither would be a Bcc, which one shared copy cannot keep
 * hidden: refused), bodies and attachments decoded. The core validates it all.
 */
export function toSubmission(
  mail: ParsedMail,
  envelope: { from: string; recipients: EnvelopeRecipient[] },
  choice: SubmissionChoice,
  routingSuffix: string | undefined,
): ParsedSubmission {
  const from = single(mail.from, 'From') ?? (envelope.from ? { address: envelope.from, name: '' } : undefined);
  if (!from?.address) throw new AppError('missing_field', 'the message has no From address', { field: 'from' });
  const listed = (header: AddressObject | AddressObject[] | undefined) =>
    new Map(mailboxes(header).map((m) => [stripRoutingSuffix(m.address, routingSuffix).address.toLowerCase(), m.name]));
  const to = listed(mail.to);
  const cc = listed(mail.cc);
  const recipients = envelope.recipients.map((r) => {
    const key = r.address.toLowerCase();
    const kind = to.has(key) ? 'to' : cc.has(key) ? 'cc' : undefined;
    if (!kind) {
      throw new AppError('invalid_field', `recipient ${r.address} is in no To or Cc header; a Bcc recipient needs a message of its own`, { field: 'to' });
    }
    const name = (kind === 'to' ? to : cc).get(key);
    return { kind, mailbox: name ? { address: r.address, name } : r.address };
  });
  const html = typeof mail.html === 'string' ? mail.html : undefined;
  const text = mail.text ?? (html === undefined ? '' : undefined);
  const reference = headerText(mail, 'x-sealpost-reference');
  const input: SubmissionInput = {
    from: from.address,
    ...(from.name && { fromName: from.name }),
    to: recipients.filter((r) => r.kind === 'to').map((r) => r.mailbox),
    cc: recipients.filter((r) => r.kind === 'cc').map((r) => r.mailbox),
    subject: choice.subject,
    ...(text !== undefined && { text }),
    ...(html !== undefined && { html }),
    mode: choice.mode,
    ...(reference !== undefined && { reference }),
    protection: choice.protection,
    attachments: mail.attachments.map((a, i) => ({
      filename: a.filename ?? `attachment-${i + 1}`,
      contentType: a.contentType,
      content: a.content,
    })),
  };
  const messageId = mail.messageId;
  const idempotent = messageId && /^[\x21-\x7e]{1,250}$/.test(messageId) ? `smtp:${messageId}` : undefined;
  return { input, ...(idempotent && { idempotencyKey: idempotent }) };
}

function mailboxes(header: AddressObject | AddressObject[] | undefined): Array<{ address: string; name: string }> {
  const objects = header === undefined ? [] : Array.isArray(header) ? header : [header];
  // Groups (RFC 5322 "name: a, b;") list their members under `group`.
  return objects
    .flatMap((o) => o.value)
    .flatMap((m) => (m.group ? m.group : [m]))
    .filter((m) => typeof m.address === 'string' && m.address !== '')
    .map((m) => ({ address: m.address!, name: m.name ?? '' }));
}

function single(header: AddressObject | undefined, field: string): { address: string; name: string } | undefined {
  const list = mailboxes(header);
  if (list.length > 1) throw new AppError('invalid_field', `the ${field} header names ${list.length} addresses; one sender is expected`, { field: 'from' });
  return list[0];
}

function headerText(mail: ParsedMail, name: string): string | undefined {
  const value = mail.headers.get(name);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
