import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { openInPortal } from './portal-links.ts';

describe('submit over REST, deliver over SMTP with STARTTLS', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let auth: string;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    ({ auth } = await t.tenant({ senderDomains: ['example.com'] }));
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('delivers one copy per recipient with headers, body and attachment bytes intact', async () => {
    const attachment = pdfLike(200 * 1024);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth },
      payload: submission({
        fromName: 'Payroll Müller AG',
        to: [{ address: 'anna.muster@example.org', name: 'Anna Muster' }],
        cc: ['hr@example.org'],
        subject: 'Lohnabrechnung November — vertraulich',
        text: 'Grüezi Anna, Ihre Lohnabrechnung liegt bei.',
        html: '<p>Grüezi Anna</p>',
        reference: 'PAY-2026-11-0042',
        language: 'de',
        attachments: [{ filename: 'lohn 2026-11.pdf', contentType: 'application/pdf', content: attachment.toString('base64') }],
      }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const body = res.json();
    expect(body.status).toBe('accepted');
    expect(body.recipients).toHaveLength(2);
    expect(res.headers.location).toBe(`/v1/messages/${body.id}`);

    const mails = await peer.waitFor(2);
    expect(mails.every((m) => m.secure)).toBe(true);
    expect(mails.map((m) => m.to).sort()).toEqual([['anna.muster@example.org'], ['hr@example.org']]);
    for (const mail of mails) {
      expect(mail.from).toBe('payroll@example.com');
      // No certificate and no business policy: a notification goes out, the content stays (docs/modes.md).
      const { notification, page, attachment: file } = await openInPortal(t.app, mail);
      expect(notification.subject).toBe('Vertrauliche Nachricht von Payroll Müller AG');
      expect(notification.from?.value[0]).toMatchObject({ address: 'payroll@example.com', name: 'Payroll Müller AG' });
      expect(mail.raw.toString('utf8')).not.toContain('Lohnabrechnung');
      expect(notification.headers.get('x-sealpost-message-id')).toBe(body.id);
      expect(page).toContain('Lohnabrechnung November — vertraulich');
      expect(page).toContain('Grüezi Anna, Ihre Lohnabrechnung liegt bei.');
      expect(page).toContain('lohn 2026-11.pdf');
      const download = await file(0);
      expect(download.contentType).toBe('application/pdf');
      expect(Buffer.compare(download.content, attachment)).toBe(0);
      // One stable Message-ID per recipient copy.
      const recipient = body.recipients.find((r: { address: string }) => r.address === mail.to[0]);
      expect(notification.messageId).toBe(`<${recipient.id}@sealpost.test>`);
    }

    await expect.poll(async () => (await t.app.inject({ url: `/v1/messages/${body.id}`, headers: { authorization: auth } })).json().status, {
      timeout: 10_000,
    }).toBe('opened');
    const events = (await t.app.inject({ url: `/v1/messages/${body.id}/events`, headers: { authorization: auth } })).json().items;
    const types = events.map((e: { type: string }) => e.type);
    expect(types[0]).toBe('submitted');
    expect(types.filter((x: string) => x === 'processing')).toHaveLength(2);
    expect(types.filter((x: string) => x === 'delivered')).toHaveLength(2);
    const delivered = events.find((e: { type: string }) => e.type === 'delivered');
    expect(delivered.detail.response).toMatch(/^250 /);
    expect(delivered.detail.queueId).toMatch(/^PEER\d+$/);
    expect(delivered.detail.route).toBe('portal');
    expect(types.filter((x: string) => x === 'opened')).toHaveLength(2);
  });

  it('stores content and attachments encrypted at rest', async () => {
    const marker = 'UNIQUE-PLAINTEXT-MARKER-4711';
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth },
      payload: submission({
        subject: marker,
        text: marker,
        attachments: [{ filename: 'note.txt', contentType: 'text/plain', content: Buffer.from(marker).toString('base64') }],
      }),
    });
    expect(res.statusCode).toBe(202);
    const { rows } = await t.runtime.database.pool.query(
      `SELECT position($1::bytea in m.content) AS in_message, position($1::bytea in a.content) AS in_attachment
         FROM messages m JOIN attachments a ON a.message_id = m.id WHERE m.id = $2`,
      [Buffer.from(marker), res.json().id],
    );
    expect(rows).toEqual([{ in_message: 0, in_attachment: 0 }]);
  });

  it('accepts multipart/form-data with files as attachments', async () => {
    const file = pdfLike(4096);
    const boundary = '----sealpost-test-boundary';
    const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const payload = Buffer.concat([
      Buffer.from(
        part('from', 'payroll@example.com') + part('to', 'multi.part@example.org') + part('subject', 'Multipart') + part('text', 'See attachment') +
          `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="slip.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(res.statusCode, res.body).toBe(202);
    const opened = await openInPortal(t.app, await peer.mailTo('multi.part@example.org'));
    expect(opened.page).toContain('Multipart');
    expect(Buffer.compare((await opened.attachment(0)).content, file)).toBe(0);
  });
});
