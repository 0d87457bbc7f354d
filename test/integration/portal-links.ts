import { simpleParser } from 'mailparser';
import type { ReceivedMail } from '../support/smtp-peer.ts';

/** The portal link of a notification, as a recipient's mail client shows it (text part and the HTML attachment agree). */
export async function portalLinkOf(mail: ReceivedMail): Promise<{ url: string; token: string; parsed: Awaited<ReturnType<typeof simpleParser>> }> {
  const parsed = await simpleParser(mail.raw);
  const match = /(https?:\/\/\S+\/r\/([A-Za-z0-9_-]{43}))/.exec(parsed.text ?? '');
  if (!match) throw new Error(`no portal link in the notification to ${mail.to.join(', ')}`);
  return { url: match[1]!, token: match[2]!, parsed };
}

/** What the recipient sees behind a notification's link: the page, and each attachment's bytes. */
export async function openInPortal(
  app: { inject: (o: { url: string; method?: 'GET' | 'POST' }) => Promise<{ statusCode: number; body: string; rawPayload: Buffer; headers: Record<string, unknown> }> },
  mail: ReceivedMail,
) {
  const { token, parsed } = await portalLinkOf(mail);
  // A confidential copy: the "Open message" button (POST, the read receipt), then the message page it leads to.
  const opened = await app.inject({ method: 'POST', url: `/r/${token}/open` });
  if (opened.statusCode !== 303) throw new Error(`portal answered ${opened.statusCode} to "Open message"`);
  const page = await app.inject({ url: `/r/${token}/message` });
  if (page.statusCode !== 200) throw new Error(`portal answered ${page.statusCode}`);
  return {
    notification: parsed,
    page: page.body,
    async attachment(index: number) {
      const res = await app.inject({ url: `/r/${token}/attachments/${index}` });
      if (res.statusCode !== 200) throw new Error(`attachment ${index}: portal answered ${res.statusCode}`);
      return { content: res.rawPayload, contentType: res.headers['content-type'], disposition: res.headers['content-disposition'] as string };
    },
  };
}
