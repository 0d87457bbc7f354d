import { createHash } from 'node:crypto';
import { openInPortal } from './portal-links.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liftAttachmentContents } from '../../src/soap/base64-lift.ts';
import { createTestApp, pdfLike, type TestApp } from '../support/app.ts';
import { credentialsOf, envelope, faultOf, operation, SOAP11, soapPost, SP, textOf, type SoapCredentials } from '../support/soap.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The header fields around attachments, as test/support/soap.ts writes them. */
const fields = {
  from: 'payroll@example.com',
  to: { address: 'anna.muster@example.org' },
  subject: 'Payslip November 2026',
  text: 'Dear Anna, your payslip is attached.',
};

/** A UsernameToken header written with its own prefixes, as hand-built clients do. */
const securityHeader = (envPrefix: string, c: SoapCredentials) =>
  `<${envPrefix}:Header><o:Security xmlns:o="${WSSE}"><o:UsernameToken><o:Username>${c.keyId}</o:Username>` +
  `<o:Password>${c.secret}</o:Password></o:UsernameToken></o:Security></${envPrefix}:Header>`;

/** Base64 attachment content of SubmitMessage is lifted out of the envelope before node-soap parses it (src/soap/base64-lift.ts). */
describe('SOAP attachment content outside the generic parser', () => {
  let t: TestApp;
  let creds: SoapCredentials;

  beforeAll(async () => {
    t = await createTestApp();
    creds = credentialsOf((await t.tenant({ senderDomains: ['example.com'] })).token);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Submits, expects 200, returns the stored attachments (position order) as size and sha256. */
  async function submitted(xml: string): Promise<Array<{ size: number; sha256: string }>> {
    const res = await soapPost(t.app, xml);
    expect(res.statusCode, res.body).toBe(200);
    const id = textOf(res.body, 'id')!;
    const rows = await t.runtime.database.pool.query<{ size_bytes: number; sha256: Buffer }>(
      'SELECT size_bytes, sha256 FROM attachments WHERE message_id = $1 ORDER BY position',
      [id],
    );
    return rows.rows.map((r) => ({ size: r.size_bytes, sha256: r.sha256.toString('hex') }));
  }
  const stored = (bytes: Buffer) => ({ size: bytes.length, sha256: sha256(bytes) });

  it('leaves a placeholder in the envelope and keeps the text aside, for every attachment and only there', () => {
    const a = pdfLike(3000).toString('base64');
    const b = pdfLike(10).toString('base64');
    const xml = envelope(
      operation('SubmitMessage', {
        ...fields,
        attachment: [
          { filename: 'a.pdf', contentType: 'application/pdf', content: a },
          { filename: 'b.pdf', contentType: 'application/pdf', content: b },
        ],
      }),
      creds,
    );
    const { xml: small, lifted } = liftAttachmentContents(xml);
    expect([...lifted.values()]).toEqual([a, b]);
    expect(small.length).toBeLessThan(xml.length - a.length - b.length + 200);
    for (const token of lifted.keys()) expect(small).toContain(`<sp:content>${token}</sp:content>`);
    expect(small).toContain(`<wsse:Password Type=`); // the header is untouched
    expect(small).toContain('<sp:subject>Payslip November 2026</sp:subject>');

    // content elsewhere (a text body, another namespace, another operation) stays where it is
    const elsewhere = `<?xml version="1.0"?><s:Envelope xmlns:s="${SOAP11}"><s:Body><sp:SubmitMessage xmlns:sp="${SP}">` +
      `<sp:text><sp:content>QUFB</sp:content></sp:text><sp:attachment><x:content xmlns:x="urn:other">QUFB</x:content></sp:attachment>` +
      `</sp:SubmitMessage></s:Body></s:Envelope>`;
    expect(liftAttachmentContents(elsewhere).lifted.size).toBe(0);
    const otherOperation = `<s:Envelope xmlns:s="${SOAP11}"><s:Body><sp:Other xmlns:sp="${SP}"><sp:attachment><sp:content>QUFB</sp:content></sp:attachment></sp:Other></s:Body></s:Envelope>`;
    expect(liftAttachmentContents(otherOperation).lifted.size).toBe(0);
    const soap12 = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><sp:SubmitMessage xmlns:sp="${SP}"><sp:attachment><sp:content>QUFB</sp:content></sp:attachment></sp:SubmitMessage></s:Body></s:Envelope>`;
    expect(liftAttachmentContents(soap12).lifted.size).toBe(0);
  });

  it('finds the elements whatever the prefixes and wherever the namespaces are declared', async () => {
    const bytes = pdfLike(5000);
    const b64 = bytes.toString('base64');
    const shapes = [
      // WCF style: s: envelope, default namespace on the operation, unprefixed children
      `<s:Envelope xmlns:s="${SOAP11}">${securityHeader('s', creds)}<s:Body><SubmitMessage xmlns="${SP}">` +
        `<from>payroll@example.com</from><to><address>anna.muster@example.org</address></to><subject>S</subject><text>T</text>` +
        `<attachment><filename>p.pdf</filename><contentType>application/pdf</contentType><content>${b64}</content></attachment>` +
        `</SubmitMessage></s:Body></s:Envelope>`,
      // JAX-WS style: every namespace on the root, ns2 for ours
      `<?xml version="1.0" ?><S:Envelope xmlns:S="${SOAP11}" xmlns:ns2="${SP}">${securityHeader('S', creds)}<S:Body><ns2:SubmitMessage>` +
        `<ns2:from>payroll@example.com</ns2:from><ns2:to><ns2:address>anna.muster@example.org</ns2:address></ns2:to><ns2:subject>S</ns2:subject><ns2:text>T</ns2:text>` +
        `<ns2:attachment><ns2:filename>p.pdf</ns2:filename><ns2:contentType>application/pdf</ns2:contentType><ns2:content>${b64}</ns2:content></ns2:attachment>` +
        `</ns2:SubmitMessage></S:Body></S:Envelope>`,
      // a prefix declared on the attachment itself, and a prefix re-bound on content
      `<soap:Envelope xmlns:soap="${SOAP11}">${securityHeader('soap', creds)}<soap:Body><m:SubmitMessage xmlns:m="${SP}">` +
        `<m:from>payroll@example.com</m:from><m:to><m:address>anna.muster@example.org</m:address></m:to><m:subject>S</m:subject><m:text>T</m:text>` +
        `<a:attachment xmlns:a="${SP}"><a:filename>p.pdf</a:filename><a:contentType>application/pdf</a:contentType>` +
        `<m:content xmlns:m='${SP}' >${b64}</m:content ></a:attachment>` +
        `</m:SubmitMessage></soap:Body></soap:Envelope>`,
    ];
    for (const xml of shapes) {
      expect(liftAttachmentContents(xml).lifted.size).toBe(1);
      expect(await submitted(xml)).toEqual([stored(bytes)]);
    }
  });

  it('maps several attachments in order, empty ones included', async () => {
    const files = [pdfLike(70_000), pdfLike(1), Buffer.alloc(0), pdfLike(333)];
    const attachment = files.map((f, i) => ({ filename: `f${i}.pdf`, contentType: 'application/pdf', content: f.toString('base64') }));
    const xml = envelope(operation('SubmitMessage', { ...fields, attachment }), creds).replace('<sp:content></sp:content>', '<sp:content/>');
    expect(xml).toContain('<sp:content/>');
    expect(await submitted(xml)).toEqual(files.map(stored));
  });

  it('accepts line breaks and spaces inside the base64, as MIME writers add them', async () => {
    const bytes = pdfLike(4000);
    const wrapped = `\r\n  ${bytes.toString('base64').replace(/.{76}/g, '$&\r\n')}\n  `;
    const xml = envelope(operation('SubmitMessage', { ...fields, attachment: { filename: 'p.pdf', contentType: 'application/pdf', content: wrapped } }), creds);
    expect(await submitted(xml)).toEqual([stored(bytes)]);
  });

  it('expands character references and predefined entities in the base64 text', async () => {
    const bytes = pdfLike(1000);
    const b64 = bytes.toString('base64');
    // .NET's XmlWriter writes a CR as &#xD;; a writer may escape any character
    const encoded = `${b64.slice(0, 76)}&#xD;&#xA;${b64.slice(76, 152)}&#13;&#10;&#x${b64.charCodeAt(152).toString(16)};${b64.slice(153)}`;
    const xml = envelope(operation('SubmitMessage', { ...fields, attachment: { filename: 'p.pdf', contentType: 'application/pdf', content: 'PLACEHOLDER' } }), creds)
      .replace('PLACEHOLDER', encoded);
    expect(await submitted(xml)).toEqual([stored(bytes)]);
  });

  it('refuses an undefined entity, a broken reference, or a reference to a non-base64 character, with a Client fault', async () => {
    const cases: Array<[string, string]> = [
      ['QUFB&nbsp;QUFB', 'malformed_xml'],
      ['QUFB&#x41QUFB', 'malformed_xml'],
      ['QUFB&QUFB', 'malformed_xml'],
      ['QUF&#x2D;', 'invalid_base64'],
      ['QUF&amp;', 'invalid_base64'],
    ];
    for (const [content, code] of cases) {
      const xml = envelope(operation('SubmitMessage', { ...fields, attachment: { filename: 'p.pdf', contentType: 'application/pdf', content: 'PLACEHOLDER' } }), creds)
        .replace('PLACEHOLDER', content);
      const res = await soapPost(t.app, xml);
      expect(res.statusCode, content).toBe(500);
      const fault = faultOf(res);
      expect(fault.faultcode, content).toBe('soap:Client');
      expect(fault.code, content).toBe(code);
      if (code === 'invalid_base64') expect(fault.details.field).toBe('attachments[0].content');
    }
  });

  it('leaves CDATA to node-soap, and a placeholder-looking text there is just bad base64', async () => {
    const bytes = pdfLike(900);
    const withCdata = envelope(operation('SubmitMessage', { ...fields, attachment: { filename: 'p.pdf', contentType: 'application/pdf', content: 'PLACEHOLDER' } }), creds);
    expect(liftAttachmentContents(withCdata.replace('PLACEHOLDER', `<![CDATA[${bytes.toString('base64')}]]>`)).lifted.size).toBe(0);
    expect(await submitted(withCdata.replace('PLACEHOLDER', `<![CDATA[${bytes.toString('base64')}]]>`))).toEqual([stored(bytes)]);

    const forged = await soapPost(t.app, withCdata.replace('PLACEHOLDER', '<![CDATA[sealpost-lifted-000000000000-0]]>'));
    expect(forged.statusCode).toBe(500);
    expect(faultOf(forged).code).toBe('invalid_base64');
  });

  it('still refuses a content element whose end tag does not match', async () => {
    const xml = envelope(operation('SubmitMessage', { ...fields, attachment: { filename: 'p.pdf', contentType: 'application/pdf', content: 'QUFB' } }), creds)
      .replace('QUFB</sp:content>', 'QUFB</sp:contents>');
    const res = await soapPost(t.app, xml);
    expect(res.statusCode).toBe(500);
    expect(faultOf(res)).toMatchObject({ faultcode: 'soap:Client', code: 'malformed_xml' });
  });
});

describe('a 25 MB attachment over SOAP', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let creds: SoapCredentials;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    creds = credentialsOf((await t.tenant({ senderDomains: ['example.com'] })).token);
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('is accepted and delivered byte for byte', async () => {
    const payslips = pdfLike(25 * 1024 * 1024);
    const xml = envelope(
      operation('SubmitMessage', { ...fields, attachment: { filename: 'payslips-2026-11.pdf', contentType: 'application/pdf', content: payslips.toString('base64') } }),
      creds,
    );
    expect(xml.length).toBeGreaterThan(34_000_000);
    const res = await soapPost(t.app, xml);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    expect(Number(textOf(res.body, 'sizeBytes'))).toBeGreaterThanOrEqual(payslips.length);

    // No certificate: a notification goes out; the file is downloaded from the portal.
    const opened = await openInPortal(t.app, await peer.mailTo('anna.muster@example.org', 30_000));
    expect(opened.page).toContain('payslips-2026-11.pdf');
    const download = await opened.attachment(0);
    expect(download.content.length).toBe(payslips.length);
    expect(sha256(download.content)).toBe(sha256(payslips));
  }, 60_000);
});
