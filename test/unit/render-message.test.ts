import { describe, expect, it } from 'vitest';
import { renderMessage } from '../../src/mime/render-message.ts';

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
});
