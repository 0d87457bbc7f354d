import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { submitMessage } from '../../src/core/submit-message.ts';
import type { Protection } from '../../src/core/protection.ts';
import { createTestApp, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

/**
 * How each copy is protected beyond its route (docs/modes.md): never in the
 * clear to a certificate, even without a signing identity; and the message's
 * `protection` (src/core/protection.ts, set by the SMTP door's subject tags)
 * honoured by the route and the S/MIME stage. Checked with the real openssl.
 */
describe('copy protection', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ca: SmimeCa;
  let sender: Issued;
  let anna: Issued;
  let carl: Issued;
  let files: Awaited<ReturnType<typeof scratch>>;
  let withIdentity: { tenantId: string; keyId: string; auth: string };
  let noIdentity: { tenantId: string; keyId: string; auth: string };

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    files = await scratch();
    ca = await createSmimeCa();
    sender = await ca.issueUser('Payroll', { emails: ['payroll@example.com'] });
    anna = await ca.issueUser('Anna Muster', { emails: ['anna@example.org'] });
    carl = await ca.issueUser('Carl Kunde', { emails: ['carl@example.org'] });
    withIdentity = await t.tenant({ role: 'admin', senderDomains: ['example.com'] });
    noIdentity = await t.tenant({ role: 'admin', senderDomains: ['elsewhere.example'] });
    const call = async (auth: string, url: string, payload: object) => {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization: auth }, payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
    };
    for (const tenant of [withIdentity, noIdentity]) {
      await call(tenant.auth, '/v1/trust-anchors', { certificate: ca.root.certPem });
    }
    await call(withIdentity.auth, '/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: ca.intermediate.certPem });
    await call(withIdentity.auth, '/v1/certificates', { certificate: anna.certPem, chain: ca.intermediate.certPem });
    await call(noIdentity.auth, '/v1/certificates', { certificate: carl.certPem, chain: ca.intermediate.certPem });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  /** A submission through the core, as the SMTP door hands it over with subject tags. */
  const submit = async (tenant: { tenantId: string; keyId: string }, from: string, to: string, text: string, protection?: Protection) => {
    const principal = { tenantId: tenant.tenantId, keyId: tenant.keyId, role: 'submitter' as const, senderDomains: [from.split('@')[1]!] };
    const input = { ...submission({ from, to: [to], subject: 'Lohn', text }), attachments: [], ...(protection && { protection }) };
    return (await submitMessage(t.runtime.core, principal, input, { via: 'smtp' })).message.id;
  };
  const deliveredDetail = async (tenant: { tenantId: string }, id: string) => {
    const auth = await t.key(tenant.tenantId, 'auditor');
    await expect.poll(async () => (await t.app.inject({ url: `/v1/messages/${id}`, headers: { authorization: auth } })).json().status, { timeout: 15_000 }).toBe('delivered');
    const events = (await t.app.inject({ url: `/v1/messages/${id}/events`, headers: { authorization: auth } })).json().items;
    return events.find((e: { type: string }) => e.type === 'delivered').detail;
  };
  const decrypt = async (raw: Buffer, who: Issued) =>
    run('openssl', ['cms', '-decrypt', '-recip', await files.file(`${who.certPem.length}.crt`, who.certPem), '-inkey', await files.file(`${who.certPem.length}.key`, who.keyPem)], raw);

  it('encrypts (enveloped only) to a certificate when the sender has no signing identity, and says why it is unsigned', async () => {
    const id = await submit(noIdentity, 'hr@elsewhere.example', 'carl@example.org', 'Secret payslip for Carl');
    const mail = await peer.mailTo('carl@example.org');
    const raw = mail.raw.toString('latin1');
    expect(raw).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data/im);
    expect(raw).not.toContain('Secret payslip');
    const opened = await decrypt(mail.raw, carl);
    expect(opened.code, opened.stderr).toBe(0);
    // Inside: the rendered message itself, no signature.
    expect(opened.stdout.toString()).not.toMatch(/multipart\/signed|pkcs7-signature/i);
    expect((await simpleParser(opened.stdout)).text?.trim()).toBe('Secret payslip for Carl');
    const detail = await deliveredDetail(noIdentity, id);
    expect(detail.route).toBe('smime');
    expect(detail.smime).toMatchObject({ signed: false, encrypted: true, reason: 'no valid signing identity for hr@elsewhere.example' });
    expect(detail.smime.encryptedFor).toHaveLength(1);
    expect(detail.smime.encryptedFor[0].serial).toBe(carl.cert.serialNumber.toLowerCase());
  });

  it('encryption "never": the full copy, signed, even to a recipient with a certificate', async () => {
    const id = await submit(withIdentity, 'payroll@example.com', 'anna@example.org', 'Plain but signed', { sign: true, encryption: 'never' });
    const mail = await peer.mailTo('anna@example.org');
    expect(mail.raw.toString('latin1')).toMatch(/^Content-Type: multipart\/signed;/im);
    const caFile = await files.file('ca.pem', ca.root.certPem + ca.intermediate.certPem);
    const verified = await run('openssl', ['cms', '-verify', '-CAfile', caFile], mail.raw);
    expect(verified.code, verified.stderr).toBe(0);
    expect((await simpleParser(verified.stdout)).text?.trim()).toBe('Plain but signed');
    const detail = await deliveredDetail(withIdentity, id);
    expect(detail).toMatchObject({ route: 'signed', smime: { signed: true, encrypted: false, reason: 'the message asks for no encryption (protection encryption: never)' } });
  });

  it('sign false and encryption "never": delivered as written, never to the portal', async () => {
    const id = await submit(withIdentity, 'payroll@example.com', 'bob@example.org', 'As written', { sign: false, encryption: 'never' });
    const mail = await peer.mailTo('bob@example.org');
    expect(mail.raw.toString('latin1')).not.toMatch(/pkcs7/i);
    expect((await simpleParser(mail.raw)).text?.trim()).toBe('As written');
    const detail = await deliveredDetail(withIdentity, id);
    expect(detail).toMatchObject({ route: 'signed', smime: { signed: false, encrypted: false, reason: 'the message asks for no signature (protection sign: false)' } });
  });

  it('sign false: encrypted without a signature, to the recipient and to the sender’s own certificate', async () => {
    const dora = await ca.issueUser('Dora', { emails: ['dora@example.org'] });
    const res = await t.app.inject({ method: 'POST', url: '/v1/certificates', headers: { authorization: withIdentity.auth }, payload: { certificate: dora.certPem, chain: ca.intermediate.certPem } });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const id = await submit(withIdentity, 'payroll@example.com', 'dora@example.org', 'Encrypted, unsigned', { sign: false, encryption: 'auto' });
    const mail = await peer.mailTo('dora@example.org');
    expect(mail.raw.toString('latin1')).toMatch(/smime-type=enveloped-data/);
    const opened = await decrypt(mail.raw, dora);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.toString()).not.toMatch(/multipart\/signed|pkcs7-signature/i);
    expect((await decrypt(mail.raw, sender)).code).toBe(0);
    const detail = await deliveredDetail(withIdentity, id);
    expect(detail).toMatchObject({ route: 'smime', smime: { signed: false, encrypted: true, reason: 'the message asks for no signature (protection sign: false)' } });
    expect(detail.smime.encryptedFor).toHaveLength(2);
  });

  it('encryption "required" without a certificate: the portal, not the full copy', async () => {
    const id = await submit(withIdentity, 'payroll@example.com', 'erin@example.org', 'Only in the portal', { sign: true, encryption: 'required' });
    const mail = await peer.mailTo('erin@example.org');
    expect(mail.raw.toString('utf8')).not.toContain('Only in the portal');
    expect((await deliveredDetail(withIdentity, id)).route).toBe('portal');
  });
});
