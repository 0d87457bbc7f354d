import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openContent, attachmentContext } from '../../src/core/sealed-content.ts';
import { createTestApp, pdfLike, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, operation, soapPost, textOf } from '../support/soap.ts';

/** SOAP and REST are two doors to one core: the same message through either is stored the same way. */
describe('the same submission over SOAP and REST', () => {
  let t: TestApp;
  let auth: string;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    ({ auth, token } = await t.tenant({ senderDomains: ['example.com'] }));
  });
  afterAll(async () => t?.close());

  it('produces identical stored rows, sealed content included', async () => {
    const slip = pdfLike(3000);
    const note = Buffer.from('Bitte beachten Sie die neue Adresse.\n');
    const message = {
      mode: 'registered',
      from: 'payroll@example.com',
      fromName: 'Lohnbüro Müller AG',
      to: [{ address: 'anna.muster@example.org', name: 'Anna Muster' }],
      cc: [{ address: 'hr@example.org' }],
      subject: 'Lohnabrechnung November',
      text: 'Grüezi Anna\n  Ihre Lohnabrechnung liegt bei.  ',
      html: '<p>Grüezi Anna</p>',
      reference: 'PAY-2026-11-0042',
      language: 'de',
    };
    const files = [
      { filename: 'lohn-2026-11.pdf', contentType: 'application/pdf', content: slip.toString('base64') },
      { filename: 'hinweis.txt', contentType: 'text/plain', content: note.toString('base64') },
    ];

    const rest = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: { ...message, attachments: files } });
    expect(rest.statusCode, rest.body).toBe(202);
    const { to, cc, ...scalars } = message;
    const soap = await soapPost(
      t.app,
      envelope(
        operation('SubmitMessage', {
          mode: scalars.mode,
          from: scalars.from,
          fromName: scalars.fromName,
          to,
          cc,
          subject: scalars.subject,
          text: scalars.text,
          html: scalars.html,
          attachment: files,
          reference: scalars.reference,
          language: scalars.language,
        }),
        credentialsOf(token),
      ),
    );
    expect(soap.statusCode, soap.body).toBe(200);

    const [fromRest, fromSoap] = await Promise.all([stored(rest.json().id), stored(textOf(soap.body, 'id')!)]);
    expect(fromSoap).toEqual(fromRest);
    expect(fromRest.message.mode).toBe('registered');
    expect(fromRest.attachments.map((a) => a.content)).toEqual([slip.toString('hex'), note.toString('hex')]);
  });

  /** Everything stored for a message, with ids, times and door-specific fields set aside and sealed parts opened. */
  async function stored(id: string) {
    const q = (sql: string) => t.runtime.database.pool.query(sql, [id]).then((r) => r.rows);
    const [message] = await q('SELECT * FROM messages WHERE id = $1');
    const { id: _id, content, created_at: _c, updated_at: _u, ...columns } = message;
    const opened = openContent(t.runtime.cipher, id, content);
    const attachments = await q('SELECT * FROM attachments WHERE message_id = $1 ORDER BY position');
    const recipients = await q('SELECT * FROM recipients WHERE message_id = $1 ORDER BY position');
    const jobs = await q('SELECT count(*)::int AS n FROM outbox WHERE message_id = $1');
    const events = await q('SELECT type, actor, detail FROM events WHERE message_id = $1 ORDER BY id');
    return {
      message: columns,
      content: { ...opened, attachments: opened.attachments.map(({ id: _a, ...meta }) => meta) },
      recipients: recipients.map(({ id: _r, message_id: _m, updated_at: _t, ...r }) => r),
      attachments: attachments.map((a) => ({
        position: a.position,
        size: a.size_bytes,
        sha256: a.sha256.toString('hex'),
        content: t.runtime.cipher.open(a.content, attachmentContext(a.id)).toString('hex'),
      })),
      jobs: jobs[0].n,
      events: events.map((e) => ({ ...e, detail: { ...e.detail, via: 'either' } })),
    };
  }
});
