import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import type MimeNode from 'nodemailer/lib/mime-node';
import { composerOptions, renderMessage, writeTree, type RenderInput } from '../../src/mime/render-message.ts';
import { toCrlf } from '../../src/smime/canonical.ts';

/** A copy from Lohnbüro to Anna Müller (names to be encoded), without content yet. */
const lohn = {
  messageId: 'm1',
  recipient: { id: 'r1' },
  from: { address: 'payroll@example.com', name: 'Lohnbüro' },
  to: [{ address: 'anna@example.org', name: 'Anna Müller' }],
  cc: [],
  submittedAt: new Date('2026-11-23T10:00:00Z'),
  messageIdDomain: 'sealpost.test',
} satisfies Partial<RenderInput>;

// MIME boundaries are random per rendering.
const sameBoundaries = (raw: Buffer) => raw.toString('latin1').replace(/_NmP-[0-9a-f]+-Part/g, '_NmP-boundary-Part');

describe('renderMessage', () => {
  const render = (text: string) =>
    renderMessage({
      messageId: 'm1',
      recipient: { id: 'r1' },
      from: { address: 'payroll@example.com', name: 'Payroll' },
      to: [{ address: 'anna@example.org', name: null }],
      cc: [],
      content: { subject: 'Payslip', text, attachments: [] },
      attachments: [{ filename: 'slip.pdf', contentType: 'application/pdf', content: Buffer.alloc(3000, 0xab) }],
      submittedAt: new Date('2026-11-23T10:00:00Z'),
      messageIdDomain: 'sealpost.test',
    });

  it('ends every line in CRLF, whatever the text used, and keeps bare CR as it is', async () => {
    const raw = (await render('one\ntwo\r\nthree\rfour\n')).toString('latin1');
    expect(raw).not.toMatch(/[^\r]\n/);
    expect(raw).toContain('one\r\ntwo\r\nthree\rfour\r\n');
    expect(raw).toMatch(/^Message-ID: <r1@sealpost\.test>\r$/m);
  });

  it('keeps attachments as base64 lines ending in CRLF, their bytes intact', async () => {
    const raw = (await render('plain\r\n')).toString('latin1');
    const base64 = /Content-Transfer-Encoding: base64\r\n(?:[^\r\n]+\r\n)*\r\n((?:[A-Za-z0-9+/=]+\r\n)+)/.exec(raw)![1]!;
    expect(Buffer.from(base64.replace(/\r\n/g, ''), 'base64')).toEqual(Buffer.alloc(3000, 0xab));
  });

  it('writes the bytes nodemailer itself writes, attachments encoded natively (any size, names to be encoded)', async () => {
    for (const sizes of [[200_001, 2, 0], [57], [58], [1], [0, 0]]) {
      const input: RenderInput = {
        ...lohn,
        content: { subject: 'Lohnabrechnung für Anna Müller', text: 'Grüezi\r\n', attachments: [] },
        attachments: sizes.map((size, i) => ({
          filename: `Lohnabrechnung ${i} für eine sehr lange Zeile mit Umlauten äöü und ñ.pdf`,
          contentType: i === 1 ? 'text/plain' : 'application/pdf',
          content: randomBytes(size),
        })),
      };
      const byNodemailer = await new MailComposer(composerOptions(input)).compile().build();
      expect(sameBoundaries(await renderMessage(input)), `sizes ${sizes.join(',')}`).toBe(sameBoundaries(byNodemailer));
    }
  });

  it('writes the bytes nodemailer writes for every text encoding and MIME shape it chooses, without its streams', async () => {
    const long = 'Lohnabrechnung '.repeat(12);
    const texts = [
      'Dear Anna,\r\nplease find attached your payslip.\r\n', // 7bit
      'Grüezi Anna\nIhr Lohn für November: CHF 6’512.40 = brutto − Abzüge\n', // quoted-printable
      'Ελληνικά κείμενα μόνο, γραμμένα ολόκληρα με μη λατινικούς χαρακτήρες.', // base64: mostly non-ASCII
      `${long}\r\n${long}ä\r\n`, // long lines, soft breaks
      'trailing spaces   \r\ntab\t\r\nend with space ', // whitespace before breaks and at the end
      'a lone CR\rinside, = signs =3D and no final newline ä',
    ];
    const shapes: Array<(text: string) => Partial<RenderInput>> = [
      (text) => ({ content: { subject: 'Lohn', text, attachments: [] }, attachments: [] }), // a single text part
      (text) => ({ content: { subject: 'Lohn', text, html: `<p>${text}</p>`, attachments: [] }, attachments: [] }), // alternative
      (text) => ({ content: { subject: 'Lohn', html: `<p>${text}</p>`, attachments: [] }, attachments: [] }), // html only
      (text) => ({
        content: { subject: 'Lohn', text, html: `<p>${text}</p>`, attachments: [] },
        attachments: [{ filename: 'lohn.pdf', contentType: 'application/pdf', content: randomBytes(10_001) }],
        cc: [{ address: 'hr@example.com', name: 'Personalabteilung' }],
      }),
    ];
    for (const [t, text] of texts.entries()) {
      for (const [k, shape] of shapes.entries()) {
        const input: RenderInput = {
          ...lohn,
          content: { subject: 'Lohn', attachments: [] },
          attachments: [],
          ...shape(text),
        };
        // Written without nodemailer's streams, not by the fallback to its build.
        expect(writeTree(new MailComposer(composerOptions(input)).compile() as MimeNode, new Set(input.attachments.map((a) => a.content)), []), `text ${t}, shape ${k}`).toBe(true);
        const byNodemailer = toCrlf(await new MailComposer(composerOptions(input)).compile().build());
        expect(sameBoundaries(await renderMessage(input)), `text ${t}, shape ${k}`).toBe(sameBoundaries(byNodemailer));
      }
    }
  });
});
