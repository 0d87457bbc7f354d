import MailComposer from 'nodemailer/lib/mail-composer';
import type { Language, MessageMode } from '../core/states.ts';
import { rfc5322MessageId } from '../mime/render-message.ts';
import { escapeHtml } from './html.ts';
import { formatDate, texts } from './i18n.ts';

export interface NotificationInput {
  messageId: string;
  recipient: { id: string; address: string; name?: string | null | undefined };
  from: { address: string; name?: string | undefined };
  mode: MessageMode;
  language: Language;
  /** The portal link that opens this recipient's copy. */
  url: string;
  expiresAt: Date;
  submittedAt: Date;
  messageIdDomain: string;
}

/** Name of the HTML attachment that opens the portal when the mail client hides the button. */
export const NOTIFICATION_ATTACHMENT = 'Sealpost.html';

/**
 * The mail a recipient gets instead of the content (route `portal`): who sent
 * what kind of message, a "Read" button, the same link as text and as an HTML
 * attachment. Nothing of the message itself (no subject, body or file names).
 * Same Message-ID as a full copy would have, so retries stay recognisable.
 */
export async function renderNotification(input: NotificationInput): Promise<Buffer> {
  const t = texts[input.language];
  const mode = t.modeName[input.mode];
  const sender = input.from.name ? `${input.from.name} <${input.from.address}>` : input.from.address;
  const expiry = t.notificationExpiry(formatDate(input.language, input.expiresAt));
  const text = [
    t.notificationIntro(mode, sender),
    '',
    `${t.read}: ${input.url}`,
    '',
    expiry,
    t.notificationNoReply,
    '',
  ].join('\r\n');
  const composer = new MailComposer({
    from: input.from.name ? { address: input.from.address, name: input.from.name } : input.from.address,
    to: input.recipient.name ? { address: input.recipient.address, name: input.recipient.name } : input.recipient.address,
    subject: t.notificationSubject(mode, input.from.name ?? input.from.address),
    text,
    html: notificationHtml(input, mode, sender, expiry),
    attachments: [
      {
        filename: NOTIFICATION_ATTACHMENT,
        contentType: 'text/html; charset=utf-8',
        content: Buffer.from(openerHtml(input, mode), 'utf8'),
        contentTransferEncoding: 'base64',
      },
    ],
    messageId: rfc5322MessageId(input.recipient.id, input.messageIdDomain),
    date: input.submittedAt,
    headers: { 'X-Sealpost-Message-Id': input.messageId, 'X-Sealpost-Notification': input.mode, 'Auto-Submitted': 'auto-generated' },
    newline: '\r\n',
  });
  return composer.compile().build();
}

/** The mail's HTML part: a big button (a styled link: mail clients run no scripts and strip most CSS). */
function notificationHtml(input: NotificationInput, mode: string, sender: string, expiry: string): string {
  const t = texts[input.language];
  const url = escapeHtml(input.url);
  return `<!DOCTYPE html>
<html lang="${input.language}"><head><meta charset="utf-8"><title>${escapeHtml(mode)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#1a1a1a">
<p>${escapeHtml(t.notificationIntro(mode, sender))}</p>
<p style="margin:28px 0"><a href="${url}" style="background:#0b57d0;color:#ffffff;padding:14px 32px;border-radius:6px;text-decoration:none;font-weight:bold;font-size:18px;display:inline-block">${escapeHtml(t.read)}</a></p>
<p style="font-size:13px;color:#444">${escapeHtml(t.notificationFallback(NOTIFICATION_ATTACHMENT))}<br><a href="${url}">${url}</a></p>
<p style="font-size:13px;color:#444">${escapeHtml(expiry)} ${escapeHtml(t.notificationNoReply)}</p>
</body></html>
`;
}

/** The attachment: opened from disk in a browser, it shows the same button (and goes there on its own). */
function openerHtml(input: NotificationInput, mode: string): string {
  const t = texts[input.language];
  const url = escapeHtml(input.url);
  return `<!DOCTYPE html>
<html lang="${input.language}"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${url}">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(mode)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif"><p><a href="${url}">${escapeHtml(t.read)}</a></p></body></html>
`;
}
