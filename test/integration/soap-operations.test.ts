import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, type TestApp } from '../support/app.ts';
import { allTextOf, credentialsOf, envelope, faultOf, operation, soapPost, textOf, type SoapCredentials } from '../support/soap.ts';

const payslip = pdfLike(2048).toString('base64');
const order = ['mode', 'from', 'fromName', 'to', 'cc', 'subject', 'text', 'html', 'attachment', 'reference', 'language', 'idempotencyKey'];

/** A SubmitMessage element, fields in the schema's sequence order. */
const submit = (fields: Record<string, unknown> = {}) => {
  const all: Record<string, unknown> = {
    from: 'payroll@example.com',
    to: { address: 'anna.muster@example.org', name: 'Anna Muster' },
    subject: 'Payslip November 2026',
    text: 'Dear Anna, your payslip is attached.',
    attachment: { filename: 'payslip.pdf', contentType: 'application/pdf', content: payslip },
    ...fields,
  };
  return operation('SubmitMessage', Object.fromEntries(order.filter((k) => k in all).map((k) => [k, all[k]])));
};

describe('SOAP operations', () => {
  let t: TestApp;
  let auth: string;
  let creds: SoapCredentials;

  beforeAll(async () => {
    t = await createTestApp();
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    auth = tenant.auth;
    creds = credentialsOf(tenant.token);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('serves the static WSDL with soap:address rewritten to the request host', async () => {
    const res = await t.app.inject({ url: '/soap/v1?wsdl', headers: { host: 'soap.example.test:8443' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toContain('<soap:address location="http://soap.example.test:8443/soap/v1"/>');
    const file = readFileSync(new URL('../../wsdl/sealpost-v1.wsdl', import.meta.url), 'utf8');
    expect(res.body.replace(/location="[^"]*"/, '')).toBe(file.replace(/location="[^"]*"/, ''));
    expect((await t.app.inject({ url: '/soap/v1?WSDL' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/soap/v1' })).statusCode).toBe(404);
  });

  it('has a well-formed WSDL whose inline schema compiles and validates a request (xmllint)', () => {
    const file = new URL('../../wsdl/sealpost-v1.wsdl', import.meta.url).pathname;
    execFileSync('xmllint', ['--noout', file]);
    const wsdl = readFileSync(file, 'utf8');
    const schema = /<xs:schema[\s\S]*<\/xs:schema>/.exec(wsdl)![0].replace(
      '<xs:schema ',
      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="urn:sealpost:v1" ',
    );
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-wsdl-'));
    writeFileSync(join(dir, 'schema.xsd'), schema);
    const request = submit({ cc: [{ address: 'hr@example.org' }], reference: 'PAY-1', language: 'de', idempotencyKey: 'k-1' });
    writeFileSync(join(dir, 'request.xml'), request.replace('<sp:SubmitMessage>', '<sp:SubmitMessage xmlns:sp="urn:sealpost:v1">'));
    execFileSync('xmllint', ['--noout', '--schema', join(dir, 'schema.xsd'), join(dir, 'request.xml')], { stdio: 'pipe' });
  });

  it('SubmitMessage commits the message; REST sees the same id and state', async () => {
    const res = await soapPost(t.app, envelope(submit({ cc: [{ address: 'hr@example.org' }], reference: 'PAY-2026-11-0042', language: 'de' }), creds), {
      soapaction: '"urn:sealpost:v1/SubmitMessage"',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.headers['x-request-id']).toBeTruthy();
    const id = textOf(res.body, 'id')!;
    expect(textOf(res.body, 'replayed')).toBe('false');
    expect(allTextOf(res.body, 'address')).toEqual(['anna.muster@example.org', 'hr@example.org']);

    const rest = await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } });
    expect(rest.statusCode).toBe(200);
    expect(rest.json()).toMatchObject({ id, status: 'accepted', from: 'payroll@example.com', reference: 'PAY-2026-11-0042', language: 'de' });
    const events = (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: auth } })).json().items;
    expect(events[0]).toMatchObject({ type: 'submitted', detail: { via: 'soap' } });
  });

  it('accepts HTTP Basic with the same key id and secret', async () => {
    const basic = `Basic ${Buffer.from(`${creds.keyId}:${creds.secret}`).toString('base64')}`;
    const res = await soapPost(t.app, envelope(submit()), { authorization: basic });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('stores the same fingerprint for the same submission over SOAP and REST', async () => {
    const content = pdfLike(1024);
    const soap = await soapPost(
      t.app,
      envelope(submit({ text: '  two\n lines  ', attachment: { filename: 'a.pdf', contentType: 'application/pdf', content: content.toString('base64') } }), creds),
    );
    const rest = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: auth },
      payload: {
        from: 'payroll@example.com',
        to: [{ address: 'anna.muster@example.org', name: 'Anna Muster' }],
        subject: 'Payslip November 2026',
        text: '  two\n lines  ',
        attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: content.toString('base64') }],
      },
    });
    const { rows } = await t.runtime.database.pool.query('SELECT id, request_hash, size_bytes, mode, language FROM messages WHERE id = ANY($1)', [
      [textOf(soap.body, 'id'), rest.json().id],
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0].request_hash.equals(rows[1].request_hash)).toBe(true);
    expect(rows[0].size_bytes).toBe(rows[1].size_bytes);
  });

  it('replays an idempotent submission and refuses a different one with the same key', async () => {
    const first = await soapPost(t.app, envelope(submit({ idempotencyKey: 'payslip-4711' }), creds));
    const again = await soapPost(t.app, envelope(submit({ idempotencyKey: 'payslip-4711' }), creds));
    expect(first.statusCode).toBe(200);
    expect(again.statusCode).toBe(200);
    expect(textOf(again.body, 'id')).toBe(textOf(first.body, 'id'));
    expect(textOf(again.body, 'replayed')).toBe('true');
    const other = await soapPost(t.app, envelope(submit({ idempotencyKey: 'payslip-4711', subject: 'Another' }), creds));
    expect(other.statusCode).toBe(500);
    expect(faultOf(other)).toMatchObject({ faultcode: 'soap:Client', code: 'idempotency_conflict' });
  });

  it('GetMessageStatus, GetMessageEvents, ListMessages and CancelMessage mirror REST', async () => {
    const id = textOf((await soapPost(t.app, envelope(submit({ reference: 'LIST-ME' }), creds))).body, 'id')!;

    const status = await soapPost(t.app, envelope(operation('GetMessageStatus', { messageId: id }), creds));
    expect(status.statusCode, status.body).toBe(200);
    expect(status.body).toContain('<GetMessageStatusResponse');
    expect(textOf(status.body, 'status')).toBe('accepted');
    expect(textOf(status.body, 'reference')).toBe('LIST-ME');

    const events = await soapPost(t.app, envelope(operation('GetMessageEvents', { messageId: `  ${id}\n` }), creds));
    expect(events.statusCode, events.body).toBe(200);
    expect(textOf(events.body, 'type')).toBe('submitted');
    expect(JSON.parse(textOf(events.body, 'detail')!)).toMatchObject({ via: 'soap', reference: 'LIST-ME' });

    const page = await soapPost(t.app, envelope(operation('ListMessages', { status: 'accepted', since: '2020-01-01T00:00:00Z', limit: 2 }), creds));
    expect(page.statusCode, page.body).toBe(200);
    expect(page.body.match(/<message>/g)).toHaveLength(2);
    const cursor = textOf(page.body, 'nextCursor')!;
    const next = await soapPost(t.app, envelope(operation('ListMessages', { cursor, limit: 200 }), creds));
    expect(next.statusCode, next.body).toBe(200);
    const restIds = (await t.app.inject({ url: '/v1/messages?limit=200', headers: { authorization: auth } })).json().items.map((m: { id: string }) => m.id);
    const soapIds = [page.body, next.body].flatMap((b) => [...b.matchAll(/<message><id>([^<]+)<\/id>/g)].map((m) => m[1]));
    expect(soapIds).toEqual(restIds);

    const cancelled = await soapPost(t.app, envelope(operation('CancelMessage', { messageId: id }), creds));
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(textOf(cancelled.body, 'status')).toBe('cancelled');
    const twice = await soapPost(t.app, envelope(operation('CancelMessage', { messageId: id }), creds));
    expect(faultOf(twice)).toMatchObject({ faultcode: 'soap:Client', code: 'not_cancellable' });

    const badLimit = await soapPost(t.app, envelope(operation('ListMessages', { limit: 'many' }), creds));
    expect(faultOf(badLimit)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_field', details: { field: 'limit' } });
  });

  it('answers GetDeliveryProof for an unknown proof with a not_found Client fault (test/integration/evidence-proofs.test.ts has the found case)', async () => {
    const res = await soapPost(t.app, envelope(operation('GetDeliveryProof', { proofId: '00000000-0000-4000-8000-000000000000' }), creds));
    expect(res.statusCode).toBe(500);
    expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'not_found' });
    expect(textOf(res.body, 'retryable')).toBe('false');
  });

  it("faults another tenant's message as not_found, like REST's 404", async () => {
    const id = textOf((await soapPost(t.app, envelope(submit(), creds))).body, 'id')!;
    const other = credentialsOf((await t.tenant()).token);
    const noReceipts = await soapPost(t.app, envelope(operation('GetReadReceipts', { messageId: id }), creds));
    expect(noReceipts.statusCode, noReceipts.body).toBe(200);
    expect(noReceipts.body).toContain('GetReadReceiptsResponse');
    expect(noReceipts.body).not.toContain('<receipt');
    for (const name of ['GetMessageStatus', 'GetMessageEvents', 'CancelMessage', 'GetReadReceipts']) {
      const res = await soapPost(t.app, envelope(operation(name, { messageId: id }), other));
      expect(res.statusCode).toBe(500);
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'not_found', details: { id } });
    }
    const mine = await soapPost(t.app, envelope(operation('GetMessageStatus', { messageId: id }), creds));
    expect(textOf(mine.body, 'status')).toBe('accepted');
  });
});
