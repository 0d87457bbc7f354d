import MailComposer from 'nodemailer/lib/mail-composer';
import type { Language } from '../core/states.ts';
import { escapeHtml } from './html.ts';
import { accountTexts } from './account-texts.ts';
import { formatDate } from './i18n.ts';

/**
 * The mail with a one-time registration code: From the message's sender (as
 * the notification), in the message's language, only the code and its expiry.
 */
export async function renderCodeMail(input: {
  from: { address: string; name?: string | undefined };
  to: string;
  language: Language;
  code: string;
  expiresAt: Date;
  messageId: string;
}): Promise<Buffer> {
  const t = accountTexts[input.language];
  const expiry = t.codeMailExpiry(formatDate(input.language, input.expiresAt));
  const spaced = `${input.code.slice(0, 4)} ${input.code.slice(4)}`;
  const composer = new MailComposer({
    from: input.from.name ? { address: input.from.address, name: input.from.name } : input.from.address,
    to: input.to,
    subject: t.codeMailSubject,
    text: [t.codeMailIntro, '', spaced, '', expiry, t.codeMailIgnore, ''].join('\r\n'),
    html: `<!DOCTYPE html>
<html lang="${input.language}"><head><meta charset="utf-8"><title>${escapeHtml(t.codeMailSubject)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#1a1a1a">
<p>${escapeHtml(t.codeMailIntro)}</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:4px">${escapeHtml(spaced)}</p>
<p style="font-size:13px;color:#444">${escapeHtml(expiry)} ${escapeHtml(t.codeMailIgnore)}</p>
</body></html>
`,
    headers: { 'X-Sealpost-Message-Id': input.messageId, 'X-Sealpost-Notification': 'registration-code', 'Auto-Submitted': 'auto-generated' },
    newline: '\r\n',
  });
  return composer.compile().build();
}
