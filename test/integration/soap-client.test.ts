import { openInPortal } from './portal-links.ts';
import { BasicAuthSecurity, createClientAsync, WSSecurity, type Client } from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, pdfLike, type TestApp } from '../support/app.ts';
import { credentialsOf, type SoapCredentials } from '../support/soap.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

interface SoapFaultError extends Error {
  root?: { Envelope?: { Body?: { Fault?: { faultcode?: string; detail?: { SealpostFault?: { code?: string } } } } } };
}

/** A generated client, as an integrator would build one: from the served WSDL, over a real socket. */
describe('SOAP with a node-soap client over HTTP', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let creds: SoapCredentials;
  let wsdlUrl: string;
  let client: Client;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    creds = credentialsOf((await t.tenant({ senderDomains: ['example.com'] })).token);
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    wsdlUrl = `${address}/soap/v1?wsdl`;
    client = await createClientAsync(wsdlUrl);
    client.setSecurity(new WSSecurity(creds.keyId, creds.secret, { passwordType: 'PasswordText', hasTimeStamp: false }));
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
  });

  it('reads the service address from the served WSDL', () => {
    const endpoint = client.describe().SealpostService.SealpostPort;
    expect(Object.keys(endpoint)).toEqual([
      'SubmitMessage', 'GetMessageStatus', 'ListMessages', 'GetMessageEvents', 'CancelMessage', 'GetReadReceipts', 'GetDeliveryProof',
    ]);
    expect(wsdlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/soap\/v1\?wsdl$/);
  });

  it('submits a payslip with an attachment and follows it until delivered, bytes intact', async () => {
    const payslip = pdfLike(200 * 1024);
    const [submitted] = await client.SubmitMessageAsync({
      mode: 'confidential',
      from: 'payroll@example.com',
      fromName: 'Payroll Müller AG',
      to: [{ address: 'anna.muster@example.org', name: 'Anna Muster' }],
      subject: 'Lohnabrechnung November — vertraulich',
      text: 'Grüezi Anna, Ihre Lohnabrechnung liegt bei.',
      attachment: [{ filename: 'lohn 2026-11.pdf', contentType: 'application/pdf', content: payslip.toString('base64') }],
      reference: 'PAY-2026-11-0042',
      language: 'de',
      idempotencyKey: 'payslip-2026-11-0042',
    });
    const id: string = submitted.message.id;
    expect(submitted.message.status).toBe('accepted');
    expect(submitted.replayed).toBe(false);

    // No certificate: a notification; the payslip is read (and downloaded) in the portal.
    const { notification, page, attachment } = await openInPortal(t.app, await peer.mailTo('anna.muster@example.org'));
    expect(notification.from?.value[0]).toMatchObject({ address: 'payroll@example.com', name: 'Payroll Müller AG' });
    expect(notification.headers.get('x-sealpost-message-id')).toBe(id);
    expect(page).toContain('Lohnabrechnung November — vertraulich');
    const download = await attachment(0);
    expect(download.disposition).toContain("filename*=UTF-8''lohn%202026-11.pdf");
    expect(Buffer.compare(download.content, payslip)).toBe(0);

    await expect
      .poll(async () => (await client.GetMessageStatusAsync({ messageId: id }))[0].message.status, { timeout: 10_000 })
      .toBe('opened');
    const [receipts] = await client.GetReadReceiptsAsync({ messageId: id });
    expect([receipts.receipt].flat().map((r: { type: string; address: string }) => [r.type, r.address])).toEqual([['opened', 'anna.muster@example.org']]);
    const [events] = await client.GetMessageEventsAsync({ messageId: id });
    const types = [events.event].flat().map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['submitted', 'processing', 'delivered', 'opened']));
  });

  it('surfaces faults with the stable code in the detail', async () => {
    const error = (await client.GetMessageStatusAsync({ messageId: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e)) as SoapFaultError;
    const fault = error.root?.Envelope?.Body?.Fault;
    expect(fault?.faultcode).toBe('soap:Client');
    expect(fault?.detail?.SealpostFault?.code).toBe('not_found');
  });

  it('works with HTTP Basic instead of WS-Security', async () => {
    const basic = await createClientAsync(wsdlUrl);
    basic.setSecurity(new BasicAuthSecurity(creds.keyId, creds.secret));
    const [page] = await basic.ListMessagesAsync({ limit: 10 });
    expect([page.message].flat().length).toBeGreaterThanOrEqual(1);

    const wrong = await createClientAsync(wsdlUrl);
    wrong.setSecurity(new BasicAuthSecurity(creds.keyId, 'wrong-secret-0123456789'));
    const error = (await wrong.ListMessagesAsync({}).catch((e: unknown) => e)) as SoapFaultError;
    expect(error.root?.Envelope?.Body?.Fault?.detail?.SealpostFault?.code).toBe('unauthorized');
  });
});
