import { randomBytes } from 'node:crypto';
import { envelope, operation, type SoapCredentials } from '../../test/support/soap.ts';

/** Bytes that look like a PDF (header, binary body, trailer): what payroll sends. Same shape as the tests use. */
export function pdfLike(size: number): Buffer {
  const head = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
  const tail = Buffer.from('\n%%EOF\n');
  const body = randomBytes(Math.max(0, size - head.length - tail.length));
  return Buffer.concat([head, body, tail]);
}

/**
 * The one request body both servers receive: a REST submission with one recipient
 * and one PDF-like attachment, base64 in JSON. The baseline reads only
 * `attachments[0].content` from it; Sealpost reads and checks all of it.
 */
export function submissionBody(attachmentBytes: number): { json: string; attachment: Buffer } {
  const attachment = pdfLike(attachmentBytes);
  const json = JSON.stringify({
    from: 'payroll@example.com',
    to: ['anna.muster@example.org'],
    subject: 'Payslip November 2026',
    text: 'Dear Anna, your payslip is attached.',
    mode: 'confidential',
    language: 'en',
    reference: 'PAY-2026-11-0001',
    attachments: [{ filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: attachment.toString('base64') }],
  });
  return { json, attachment };
}

/** The same submission as `submissionBody`, as a SOAP 1.1 SubmitMessage (test/support/soap.ts shape, elements in schema order). */
export function soapSubmission(attachment: Buffer, credentials?: SoapCredentials): string {
  const request = operation('SubmitMessage', {
    mode: 'confidential',
    from: 'payroll@example.com',
    to: { address: 'anna.muster@example.org' },
    subject: 'Payslip November 2026',
    text: 'Dear Anna, your payslip is attached.',
    attachment: { filename: 'payslip-2026-11.pdf', contentType: 'application/pdf', content: attachment.toString('base64') },
    reference: 'PAY-2026-11-0001',
    language: 'en',
  });
  return envelope(request, credentials);
}
