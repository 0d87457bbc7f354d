import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, faultOf, operation, SOAP11, SOAP12, soapPost, SP, textOf, type SoapCredentials } from '../support/soap.ts';

const order = ['mode', 'from', 'fromName', 'to', 'cc', 'subject', 'text', 'html', 'attachment', 'reference', 'language', 'idempotencyKey'];
const base64 = (text: string) => Buffer.from(text).toString('base64');

/** The same submission as a REST JSON body and as a SOAP SubmitMessage element. */
function both(overrides: { rest?: Record<string, unknown>; soap?: Record<string, unknown>; drop?: string[] }) {
  const rest: Record<string, unknown> = {
    from: 'payroll@example.com',
    to: ['anna@example.org'],
    subject: 'Payslip',
    text: 'Hello',
    attachments: [{ filename: 'slip.pdf', contentType: 'application/pdf', content: base64('%PDF-1.7 payslip') }],
    ...overrides.rest,
  };
  const soap: Record<string, unknown> = {
    from: rest.from,
    to: (rest.to as string[]).map((address) => ({ address })),
    subject: rest.subject,
    text: rest.text,
    attachment: rest.attachments,
    ...overrides.soap,
  };
  for (const field of overrides.drop ?? []) {
    delete rest[field];
    delete soap[field];
  }
  const ordered = Object.fromEntries([...order.filter((k) => k in soap), ...Object.keys(soap).filter((k) => !order.includes(k))].map((k) => [k, soap[k]]));
  return { rest, soap: operation('SubmitMessage', ordered) };
}

describe('SOAP faults', () => {
  let t: TestApp;
  let auth: string;
  let creds: SoapCredentials;
  const status = (messageId = '00000000-0000-4000-8000-000000000000') => operation('GetMessageStatus', { messageId });

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_MESSAGE_BYTES: String(64 * 1024) } });
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    auth = tenant.auth;
    creds = credentialsOf(tenant.token);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The server still answers a proper request after a hostile one. */
  async function stillServing() {
    const res = await soapPost(t.app, envelope(status(), creds));
    expect(faultOf(res).code).toBe('not_found');
  }

  describe('authentication', () => {
    it('challenges a request without credentials (401, Basic) with an unauthorized Client fault', async () => {
      const res = await soapPost(t.app, envelope(status()));
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="sealpost"/);
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'unauthorized' });
    });

    it.each([
      ['a wrong password', () => ({ ...creds, secret: `${creds.secret}x` })],
      ['an unknown key', () => ({ keyId: 'sp_0000000000000000', secret: creds.secret })],
      ['an empty password', () => ({ ...creds, secret: '' })],
    ])('refuses %s with an unauthorized Client fault (HTTP 500)', async (_name, make) => {
      const res = await soapPost(t.app, envelope(status(), make()));
      expect(res.statusCode).toBe(500);
      expect(res.headers['content-type']).toMatch(/^text\/xml/);
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'unauthorized' });
    });

    it('refuses a PasswordDigest token without Nonce and Created, naming the reason, and a wrong HTTP Basic password', async () => {
      const digest = await soapPost(t.app, envelope(status(), creds, 'PasswordDigest'));
      expect(faultOf(digest)).toMatchObject({ faultcode: 'soap:Client', code: 'unauthorized' });
      expect(faultOf(digest).message).toMatch(/PasswordDigest/);
      const basic = await soapPost(t.app, envelope(status()), { authorization: `Basic ${base64(`${creds.keyId}:wrong-secret-0123456789`)}` });
      expect(basic.statusCode).toBe(500);
      expect(faultOf(basic)).toMatchObject({ faultcode: 'soap:Client', code: 'unauthorized' });
    });

    it('lets an auditor read but not submit (forbidden, as over REST)', async () => {
      const auditor = credentialsOf((await t.key((await t.tenant()).tenantId, 'auditor')).slice('Bearer '.length));
      const res = await soapPost(t.app, envelope(both({}).soap, auditor));
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'forbidden' });
    });
  });

  describe('bad input gets the code REST gives', () => {
    it.each([
      ['invalid_address', { rest: { to: ['not an address'] } }],
      ['attachment_blocked', { rest: { attachments: [{ filename: 'setup.exe', contentType: 'application/octet-stream', content: base64('MZ...') }] } }],
      ['invalid_base64', { rest: { attachments: [{ filename: 'a.pdf', contentType: 'application/pdf', content: 'not*base64!' }] } }],
      ['invalid_attachment_name', { rest: { attachments: [{ filename: '../../etc/passwd', contentType: 'text/plain', content: base64('x') }] } }],
      ['missing_field', { drop: ['subject'] }],
      ['missing_field', { drop: ['text'] }],
      ['invalid_mode', { rest: { mode: 'urgent' }, soap: { mode: 'urgent' } }],
      ['invalid_header_value', { rest: { subject: 'Payslip\r\nBcc: everyone@example.net' } }],
      ['sender_not_allowed', { rest: { from: 'payroll@elsewhere.example' } }],
      ['duplicate_recipient', { rest: { to: ['anna@example.org', 'ANNA@example.org'] } }],
      ['unknown_field', { rest: { priority: 'high' }, soap: { priority: 'high' } }],
      ['message_too_large', { rest: { text: 'x'.repeat(65 * 1024) } }],
    ] as const)('%s', async (code, overrides) => {
      const { rest, soap } = both(overrides as Parameters<typeof both>[0]);
      const viaRest = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: auth }, payload: rest });
      expect(viaRest.json().code, viaRest.body).toBe(code);
      const viaSoap = await soapPost(t.app, envelope(soap, creds));
      expect(viaSoap.statusCode).toBe(500);
      const fault = faultOf(viaSoap);
      expect(fault, viaSoap.body).toMatchObject({ faultcode: 'soap:Client', code });
      expect(fault.message).toBeTruthy();
      expect(textOf(viaSoap.body, 'requestId')).toBe(viaSoap.headers['x-request-id']);
    });

    it('faults a missing messageId as missing_field', async () => {
      const res = await soapPost(t.app, envelope(operation('GetMessageStatus'), creds));
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'missing_field', details: { field: 'messageId' } });
    });
  });

  describe('hostile and malformed requests', () => {
    const hostile: Array<[string, string]> = [
      ['a DOCTYPE', `<?xml version="1.0"?><!DOCTYPE Envelope><soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body/></soapenv:Envelope>`],
      [
        'an external entity (XXE)',
        `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body><sp:GetMessageStatus xmlns:sp="${SP}"><sp:messageId>&xxe;</sp:messageId></sp:GetMessageStatus></soapenv:Body></soapenv:Envelope>`,
      ],
      [
        'billion laughs',
        `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body>&lol3;</soapenv:Body></soapenv:Envelope>`,
      ],
      ['deep nesting', envelope(`${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`)],
      ['too many elements', envelope(operation('GetMessageStatus', { messageId: '1' }).replace('</sp:GetMessageStatus>', `${'<x/>'.repeat(20_000)}</sp:GetMessageStatus>`))],
      ['a non-XML body', 'this is not xml at all'],
      ['a JSON body', '{"from":"payroll@example.com"}'],
      ['truncated XML', envelope(status(), undefined).slice(0, 120)],
      ['mismatched tags', envelope(`<sp:GetMessageStatus><sp:messageId>x</sp:wrong></sp:GetMessageStatus>`)],
      ['an undeclared entity', envelope(operation('GetMessageStatus', { messageId: 'x' }).replace('>x<', '>&xxe;<'))],
    ];

    it.each(hostile)('refuses %s with a malformed_xml Client fault and keeps serving', async (_name, xml) => {
      const res = await soapPost(t.app, xml);
      expect(res.statusCode).toBe(500);
      expect(faultOf(res), res.body).toMatchObject({ faultcode: 'soap:Client', code: 'malformed_xml' });
      expect(res.body).not.toMatch(/at .*\.(ts|js):\d+/);
      await stillServing();
    });

    it('accepts a <!DOCTYPE inside CDATA (it is text there)', async () => {
      const { soap } = both({ soap: { html: 'X' } });
      const res = await soapPost(t.app, envelope(soap.replace('<sp:html>X</sp:html>', '<sp:html><![CDATA[<!DOCTYPE html><p>Hello</p>]]></sp:html>'), creds));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('refuses a SOAP 1.2 envelope, naming the version', async () => {
      const xml = `<env:Envelope xmlns:env="${SOAP12}"><env:Body>${status()}</env:Body></env:Envelope>`;
      const asTextXml = await soapPost(t.app, xml);
      expect(faultOf(asTextXml)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_request', details: { soapVersion: '1.2' } });
      expect(faultOf(asTextXml).message).toMatch(/SOAP 1\.2.*SOAP 1\.1/);
      const asSoapXml = await soapPost(t.app, xml, { 'content-type': 'application/soap+xml; charset=utf-8' });
      expect(faultOf(asSoapXml)).toMatchObject({ faultcode: 'soap:Client', code: 'unsupported_media_type', details: { soapVersion: '1.2' } });
      await stillServing();
    });

    it('refuses a wrong content type and a non-UTF-8 charset', async () => {
      const json = await soapPost(t.app, envelope(status(), creds), { 'content-type': 'application/json' });
      expect(json.statusCode).toBe(500);
      expect(faultOf(json)).toMatchObject({ faultcode: 'soap:Client', code: 'unsupported_media_type' });
      const latin1 = await soapPost(t.app, envelope(status(), creds), { 'content-type': 'text/xml; charset=iso-8859-1' });
      expect(faultOf(latin1)).toMatchObject({ faultcode: 'soap:Client', code: 'unsupported_media_type' });
    });

    it('refuses an oversize envelope before parsing it', async () => {
      // Body limit = 64 KiB * 4/3 + 1 MiB of framing.
      const res = await soapPost(t.app, envelope(operation('GetMessageStatus', { messageId: 'A'.repeat(1_200_000) }), creds));
      expect(res.statusCode).toBe(500);
      expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'message_too_large' });
      await stillServing();
    });

    it('refuses an unknown operation, a missing Body, a non-envelope and a mismatched SOAPAction', async () => {
      const unknown = await soapPost(t.app, envelope('<sp:DeleteEverything/>', creds));
      expect(faultOf(unknown)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_request', details: { operation: 'DeleteEverything' } });
      const empty = await soapPost(t.app, `<soapenv:Envelope xmlns:soapenv="${SOAP11}"><soapenv:Body/></soapenv:Envelope>`);
      expect(faultOf(empty)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_request' });
      const notSoap = await soapPost(t.app, '<GetMessageStatus><messageId>x</messageId></GetMessageStatus>');
      expect(faultOf(notSoap)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_request' });
      const action = await soapPost(t.app, envelope(status(), creds), { soapaction: '"urn:sealpost:v1/CancelMessage"' });
      expect(faultOf(action)).toMatchObject({ faultcode: 'soap:Client', code: 'invalid_request' });
      await stillServing();
    });

    it('escapes hostile text quoted back in a fault', async () => {
      const res = await soapPost(t.app, envelope(operation('GetMessageStatus', { messageId: 'x</sp:message><evil/>\u0001' }), creds));
      expect(faultOf(res).code).toBe('not_found');
      expect(res.body).not.toContain('<evil/>');
    });
  });
});
