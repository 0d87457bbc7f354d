import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.ts';
import {
  assertKnownFields,
  submissionFingerprint,
  validateSubmission,
  type AttachmentInput,
  type SubmissionInput,
} from '../../src/core/submission.ts';

const limits = { maxMessageBytes: 10_000, maxRecipients: 5, maxAttachments: 3 };
const pdf = Buffer.from('%PDF-1.7\nbody\n%%EOF\n');

const input = (overrides: Record<string, unknown> = {}): SubmissionInput => ({
  from: 'payroll@example.com',
  to: ['anna@example.org'],
  subject: 'Payslip',
  text: 'Attached.',
  attachments: [{ filename: 'payslip.pdf', contentType: 'application/pdf', content: pdf }],
  ...overrides,
});
const attachment = (overrides: Partial<AttachmentInput> = {}) => ({
  attachments: [{ filename: 'payslip.pdf', contentType: 'application/pdf', content: pdf, ...overrides }],
});

function refusal(overrides: Record<string, unknown>): AppError {
  try {
    validateSubmission(input(overrides), limits);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected the submission to be refused');
}

describe('validateSubmission', () => {
  it('returns a normalised submission with defaults', () => {
    const valid = validateSubmission(
      input({
        from: 'Payroll@Example.COM',
        fromName: 'Payroll AG',
        to: ['anna@example.org', { address: 'ben@EXAMPLE.org', name: 'Ben\tB.' }],
        cc: ['hr@example.org'],
        html: '<p>Attached.</p>',
      }),
      limits,
    );
    expect(valid).toMatchObject({
      from: { address: 'Payroll@example.com', name: 'Payroll AG' },
      recipients: [
        { kind: 'to', address: 'anna@example.org' },
        { kind: 'to', address: 'ben@example.org', name: 'Ben\tB.' },
        { kind: 'cc', address: 'hr@example.org' },
      ],
      subject: 'Payslip',
      text: 'Attached.',
      html: '<p>Attached.</p>',
      mode: 'confidential',
      language: 'en',
      attachments: [{ filename: 'payslip.pdf', contentType: 'application/pdf' }],
    });
    expect(valid.reference).toBeUndefined();
    expect(valid.sizeBytes).toBe('Payslip'.length + 'Attached.'.length + '<p>Attached.</p>'.length + pdf.length);
    expect(valid.attachments[0]!.sha256.toString('hex')).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['mode', 'registered'],
    ['mode', 'personal'],
    ['language', 'de'],
    ['reference', 'PAY-2026-11-0042'],
  ])('keeps %s %j', (field, value) => {
    expect(validateSubmission(input({ [field]: value }), limits)).toMatchObject({ [field]: value });
  });

  it('accepts an html-only body, no attachments and a missing content type', () => {
    expect(() => validateSubmission(input({ text: undefined, html: '<p>x</p>', attachments: [] }), limits)).not.toThrow();
    const valid = validateSubmission(input(attachment({ contentType: undefined })), limits);
    expect(valid.attachments[0]!.contentType).toBe('application/octet-stream');
    expect(validateSubmission(input(attachment({ contentType: 'Application/PDF' })), limits).attachments[0]!.contentType).toBe(
      'application/pdf',
    );
  });

  it.each([
    // what is sent                                                     code                      field
    [{ from: undefined }, 'missing_field', 'from'],
    [{ from: '' }, 'missing_field', 'from'],
    [{ from: 'not an address' }, 'invalid_address', 'from'],
    [{ from: 42 }, 'invalid_address', 'from'],
    [{ fromName: 'Payroll\r\nBcc: eve@example.net' }, 'invalid_header_value', 'fromName'],
    [{ fromName: 7 }, 'invalid_field', 'fromName'],
    [{ fromName: 'x'.repeat(201) }, 'invalid_field', 'fromName'],
    [{ to: undefined }, 'missing_field', 'to'],
    [{ to: [] }, 'missing_field', 'to'],
    [{ to: [], cc: ['hr@example.org'] }, 'missing_field', 'to'],
    [{ to: 'anna@example.org' }, 'invalid_field', 'to'],
    [{ to: [42] }, 'invalid_field', 'to[0]'],
    [{ to: ['anna@example.org', 'bad@'] }, 'invalid_address', 'to[1]'],
    [{ cc: ['bad'] }, 'invalid_address', 'cc[0]'],
    [{ to: [{ name: 'Anna' }] }, 'invalid_address', 'to[0].address'],
    [{ to: [{ address: 'anna@example.org', name: 'Anna\nBcc: eve@example.net' }] }, 'invalid_header_value', 'to[0].name'],
    [{ to: [{ address: 'anna@example.org', bcc: 'eve@example.net' }] }, 'unknown_field', 'to[0]'],
    [{ to: ['anna@example.org', 'ANNA@example.org'] }, 'duplicate_recipient', undefined],
    [{ to: ['anna@example.org'], cc: ['anna@EXAMPLE.ORG'] }, 'duplicate_recipient', undefined],
    [{ to: ['a@example.org', 'b@example.org', 'c@example.org'], cc: ['d@example.org', 'e@example.org', 'f@example.org'] }, 'too_many_recipients', undefined],
    [{ subject: undefined }, 'missing_field', 'subject'],
    [{ subject: '' }, 'missing_field', 'subject'],
    [{ subject: 3 }, 'invalid_field', 'subject'],
    [{ subject: 'Payslip\r\nBcc: eve@example.net' }, 'invalid_header_value', 'subject'],
    [{ subject: 'Payslip\u0000' }, 'invalid_header_value', 'subject'],
    [{ subject: 'x'.repeat(999) }, 'invalid_field', 'subject'],
    [{ text: undefined }, 'missing_field', 'text'],
    [{ text: 5 }, 'invalid_field', 'text'],
    [{ text: 'a\u0000b' }, 'invalid_field', 'text'],
    [{ html: '<p>\u0000</p>' }, 'invalid_field', 'html'],
    [{ mode: 'urgent' }, 'invalid_mode', 'mode'],
    [{ mode: 1 }, 'invalid_mode', 'mode'],
    [{ language: 'es' }, 'invalid_field', 'language'],
    [{ reference: 'PAY-1\r\nX-Evil: 1' }, 'invalid_header_value', 'reference'],
    [{ reference: 'x'.repeat(201) }, 'invalid_field', 'reference'],
    [attachment({ filename: undefined }), 'missing_field', 'attachments[0].filename'],
    [attachment({ filename: '' }), 'missing_field', 'attachments[0].filename'],
    [attachment({ filename: '../payslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: 'dir/payslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: '..\\payslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: 'C:\\temp\\payslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: '..' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: '.' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: 'pay\r\nslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: 'pay\tslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: 'payslip.pdf\u0000.exe' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: ' payslip.pdf' }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ filename: `${'x'.repeat(252)}.pdf` }), 'invalid_attachment_name', 'attachments[0].filename'],
    [attachment({ contentType: 'pdf' }), 'invalid_field', 'attachments[0].contentType'],
    [attachment({ contentType: 'application/pdf\r\nX-Evil: 1' }), 'invalid_header_value', 'attachments[0].contentType'],
    [attachment({ filename: 'setup.exe' }), 'attachment_blocked', 'attachments[0]'],
    [attachment({ contentType: 'application/x-msdownload' }), 'attachment_blocked', 'attachments[0]'],
    [attachment({ content: Buffer.from('MZ\x90\x00', 'latin1') }), 'attachment_blocked', 'attachments[0]'],
    [{ attachments: Array.from({ length: 4 }, (_, i) => ({ filename: `${i}.pdf`, content: pdf })) }, 'too_many_attachments', undefined],
    [{ text: 'x'.repeat(10_001) }, 'message_too_large', undefined],
    [attachment({ content: Buffer.alloc(9_990, 0x41) }), 'message_too_large', undefined],
  ])('%j is refused with %s', (overrides, code, field) => {
    const error = refusal(overrides);
    expect(error.code).toBe(code);
    if (field !== undefined) expect(error.details).toMatchObject({ field });
  });

  it('names the attachment at fault', () => {
    const error = refusal({
      attachments: [
        { filename: 'ok.pdf', content: pdf },
        { filename: 'bad/name.pdf', content: pdf },
      ],
    });
    expect(error.details).toMatchObject({ field: 'attachments[1].filename' });
  });
});

describe('assertKnownFields', () => {
  it('passes known fields', () => {
    expect(() => assertKnownFields(input())).not.toThrow();
  });

  it('names every unknown field', () => {
    expect(() => assertKnownFields({ ...input(), bcc: [], priority: 'high' })).toThrowError(
      expect.objectContaining({ code: 'unknown_field', details: { fields: ['bcc', 'priority'] } }),
    );
  });
});

describe('submissionFingerprint', () => {
  const fingerprint = (overrides: Record<string, unknown> = {}) =>
    submissionFingerprint(validateSubmission(input(overrides), limits)).toString('hex');

  it('is the same for the same submission, however it was spelled', () => {
    expect(fingerprint()).toBe(fingerprint());
    expect(fingerprint({ from: 'payroll@EXAMPLE.com', mode: 'confidential', language: 'en' })).toBe(fingerprint());
  });

  it.each([
    { subject: 'Another' },
    { text: 'Other text' },
    { to: ['ben@example.org'] },
    { cc: ['hr@example.org'] },
    { mode: 'registered' },
    { reference: 'R-1' },
    attachment({ content: Buffer.from('%PDF-1.7\nother\n%%EOF\n') }),
    attachment({ filename: 'other.pdf' }),
  ])('changes with %j', (overrides) => {
    expect(fingerprint(overrides)).not.toBe(fingerprint());
  });
});
