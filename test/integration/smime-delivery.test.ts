import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

/**
 * The pipeline with certificates: every copy signed with the sender's identity,
 * encrypted when the recipient has a valid certificate, and each checked by
 * the real openssl as a recipient's mail client would.
 */
describe('S/MIME in delivery', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ca: SmimeCa;
  let sender: Issued;
  let anna: Issued;
  let submit: string;
  let files: Awaited<ReturnType<typeof scratch>>;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    t = await createTestApp({ smtp: peer });
    files = await scratch();
    ca = await createSmimeCa();
    sender = await ca.issueUser('Payroll', { emails: ['payroll@example.com'] });
    anna = await ca.issueUser('Anna Muster', { emails: ['anna.muster@example.org'] });
    const admin = await t.tenant({ role: 'admin', senderDomains: ['example.com'] });
    submit = await t.key(admin.tenantId, 'submitter');
    const call = async (url: string, payload: object) => {
      const res = await t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });
      expect(res.statusCode, res.body).toBeLessThan(300);
    };
    await call('/v1/trust-anchors', { certificate: ca.root.certPem });
    await call('/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: ca.intermediate.certPem });
    await call('/v1/certificates', { certificate: anna.certPem, chain: ca.intermediate.certPem, keyTransport: 'rsaes-oaep-sha256' });
    await t.startWorker();
  });
  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  it('encrypts to a recipient with a certificate and signs for one without', async () => {
    const slip = pdfLike(20_000);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: submit },
      payload: submission({
        to: ['anna.muster@example.org', 'bob@example.org'],
        subject: 'Lohnabrechnung',
        text: 'Vertraulich: Ihre Lohnabrechnung.',
        attachments: [{ filename: 'lohn.pdf', contentType: 'application/pdf', content: slip.toString('base64') }],
      }),
    });
    expect(res.statusCode, res.body).toBe(202);
    const caFile = await files.file('ca.pem', ca.root.certPem + ca.intermediate.certPem);

    // Anna: enveloped, then signed inside; her key opens it, the CA verifies it.
    const toAnna = await peer.mailTo('anna.muster@example.org');
    expect(toAnna.raw.toString('latin1')).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data/im);
    expect(toAnna.raw.toString('latin1')).not.toContain('Vertraulich');
    // Her certificate was imported for OAEP: her key is wrapped with RSAES-OAEP, the sender's with PKCS#1 v1.5.
    const structure = (await run('openssl', ['cms', '-cmsout', '-print', '-inform', 'SMIME'], toAnna.raw)).stdout.toString();
    expect(structure).toMatch(/rsaesOaep/);
    expect(structure).toMatch(/rsaEncryption/);
    const opened = await run('openssl', ['cms', '-decrypt', '-recip', await files.file('anna.crt', anna.certPem), '-inkey', await files.file('anna.key', anna.keyPem)], toAnna.raw);
    expect(opened.code, opened.stderr).toBe(0);
    const verified = await run('openssl', ['cms', '-verify', '-CAfile', caFile], opened.stdout);
    expect(verified.code, verified.stderr).toBe(0);
    const inner = await simpleParser(verified.stdout);
    expect(inner.text?.trim()).toBe('Vertraulich: Ihre Lohnabrechnung.');
    expect(Buffer.compare(inner.attachments[0]!.content, slip)).toBe(0);

    // The sender's own certificate opens its archive copy of the same bytes.
    const archived = await run('openssl', ['cms', '-decrypt', '-recip', await files.file('sender.crt', sender.certPem), '-inkey', await files.file('sender.key', sender.keyPem)], toAnna.raw);
    expect(archived.code, archived.stderr).toBe(0);

    // Bob: no certificate, so a portal notification, signed like any copy; the content is not in it.
    const toBob = await peer.mailTo('bob@example.org');
    expect(toBob.raw.toString('latin1')).toMatch(/^Content-Type: multipart\/signed;/im);
    const bobVerified = await run('openssl', ['cms', '-verify', '-CAfile', caFile], toBob.raw);
    expect(bobVerified.code, bobVerified.stderr).toBe(0);
    expect(bobVerified.stdout.toString()).not.toContain('Vertraulich');
    expect(bobVerified.stdout.toString()).toMatch(/\/r\/[A-Za-z0-9_-]{43}/);

    // The logbook says which certificate signed and encrypted each copy, or why not.
    await expect.poll(async () => (await t.app.inject({ url: `/v1/messages/${res.json().id}`, headers: { authorization: submit } })).json().status, { timeout: 15_000 }).toBe('delivered');
    const events = (await t.app.inject({ url: `/v1/messages/${res.json().id}/events`, headers: { authorization: submit } })).json().items;
    const delivered = (address: string) => {
      const recipient = res.json().recipients.find((r: { address: string }) => r.address === address);
      return events.find((e: { type: string; recipientId: string }) => e.type === 'delivered' && e.recipientId === recipient.id).detail;
    };
    const signedBy = { serial: sender.cert.serialNumber.toLowerCase() };
    expect(delivered('anna.muster@example.org')).toMatchObject({ route: 'smime', smime: { signed: true, encrypted: true, signedBy } });
    expect(delivered('anna.muster@example.org').smime.encryptedFor[0]).toMatchObject({
      serial: anna.cert.serialNumber.toLowerCase(),
      keyTransport: 'rsaes-oaep-sha256',
    });
    expect(delivered('bob@example.org')).toMatchObject({
      route: 'portal',
      smime: { signed: true, encrypted: false, signedBy, reason: 'portal notification: the content stays on the server' },
    });
  });

  it('times signing and sign-then-encrypt per copy', async () => {
    const text = await t.runtime.metrics.registry.getSingleMetricAsString('sealpost_smime_duration_seconds');
    expect(text).toMatch(/sealpost_smime_duration_seconds_count\{operation="sign_encrypt"\} [1-9]/);
    expect(text).toMatch(/sealpost_smime_duration_seconds_count\{operation="sign"\} [1-9]/);
  });

  it("exports when the tenant's signing identity expires, for alerting before it does", async () => {
    const text = await t.runtime.metrics.registry.getSingleMetricAsString('sealpost_certificate_expiry_timestamp_seconds');
    const tenantId = (await t.runtime.database.pool.query('SELECT tenant_id FROM signing_identities')).rows[0].tenant_id;
    expect(text).toContain(`sealpost_certificate_expiry_timestamp_seconds{tenant_id="${tenantId}",usage="signing"} ${Math.floor(sender.cert.notAfter.getTime() / 1000)}`);
  });

  it('sends unsigned, and says so, when the sender has no identity', async () => {
    const other = await t.tenant();
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: other.auth }, payload: submission({ from: 'hr@elsewhere.example', to: ['carol@example.org'] }) });
    expect(res.statusCode).toBe(202);
    const mail = await peer.mailTo('carol@example.org');
    expect(mail.raw.toString('latin1')).not.toMatch(/pkcs7/i);
    await expect.poll(async () => (await t.app.inject({ url: `/v1/messages/${res.json().id}`, headers: { authorization: other.auth } })).json().status, { timeout: 15_000 }).toBe('delivered');
    const events = (await t.app.inject({ url: `/v1/messages/${res.json().id}/events`, headers: { authorization: other.auth } })).json().items;
    expect(events.find((e: { type: string }) => e.type === 'delivered').detail.smime).toEqual({
      signed: false,
      encrypted: false,
      reason: 'no valid signing identity for hr@elsewhere.example',
    });
  });
});

describe('S/MIME in delivery with CRL_FILES', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let files: Awaited<ReturnType<typeof scratch>>;

  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  it('refuses to store a revoked recipient certificate, so copies to that address go to the portal (a signed notification)', async () => {
    peer = await startSmtpPeer();
    files = await scratch();
    const ca = await createSmimeCa();
    const sender = await ca.issueUser('Payroll', { emails: ['payroll@example.com'] });
    const dora = await ca.issueUser('Dora', { emails: ['dora@example.org'] });
    const crl = await ca.crl({ revoked: [{ serial: dora.cert.serialNumber }] });
    t = await createTestApp({ smtp: peer, env: { CRL_FILES: await files.file('intermediate.crl', crl.toString('pem')) } });
    const admin = await t.tenant({ role: 'admin' });
    const call = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });
    expect((await call('/v1/trust-anchors', { certificate: ca.root.certPem })).statusCode).toBe(201);
    expect((await call('/v1/identities', { certificate: sender.certPem, privateKey: sender.keyPem, chain: ca.intermediate.certPem })).statusCode).toBe(201);
    const refused = await call('/v1/certificates', { certificate: dora.certPem, chain: ca.intermediate.certPem });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'certificate_rejected', details: { check: 'revocation' } });

    await t.startWorker();
    const res = await t.app.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: await t.key(admin.tenantId, 'submitter') }, payload: submission({ to: ['dora@example.org'] }) });
    expect(res.statusCode).toBe(202);
    const mail = await peer.mailTo('dora@example.org');
    expect(mail.raw.toString('latin1')).toMatch(/^Content-Type: multipart\/signed;/im);
    expect(mail.raw.toString('latin1')).toMatch(/^X-Sealpost-Notification: confidential/im);
  });
});
