import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';

/** The default limit is 30 MB of message (bodies and decoded attachments), over JSON and multipart alike. */
describe('message size limit at its default', () => {
  let t: TestApp;
  let auth: string;
  const limit = 30 * 1024 * 1024;
  const subject = 'Annual statement';
  const text = 'Attached.';

  beforeAll(async () => {
    t = await createTestApp();
    ({ auth } = await t.tenant());
  });
  afterAll(async () => t?.close());

  const jsonWithAttachmentOf = (bytes: number) =>
    submission({ subject, text, attachments: [{ filename: 'statement.pdf', contentType: 'application/pdf', content: pdfLike(bytes).toString('base64') }] });

  it('accepts a JSON message of exactly the limit', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth },
      payload: jsonWithAttachmentOf(limit - subject.length - text.length),
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().sizeBytes).toBe(limit);
  });

  it('refuses one byte more with 413 message_too_large and stores nothing', async () => {
    const before = (await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n;
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth },
      payload: jsonWithAttachmentOf(limit - subject.length - text.length + 1),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('message_too_large');
    const after = (await t.runtime.database.pool.query('SELECT count(*)::int AS n FROM messages')).rows[0].n;
    expect(after).toBe(before);
  });
});
