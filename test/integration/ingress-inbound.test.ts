import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { importIdentity } from '../../src/core/identities.ts';
import { openContent } from '../../src/core/sealed-content.ts';
import { listRecipientCertificates } from '../../src/db/repositories/certificates.ts';
import { findMessage } from '../../src/db/repositories/messages.ts';
import { startSmtpIngress, type SmtpIngress } from '../../src/ingress/smtp-ingress.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createTestCa, type TestCa } from '../support/pki.ts';
import { createSmimeCa, type Issued, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';

const DAY = 24 * 3600_000;

/**
 * Inbound S/MIME: a partner's signed and encrypted reply to the tenant's own
 * domain comes through the gateway, is decrypted (current or expired key),
 * verified and tagged, the partner's certificate is harvested, and the next
 * message to the partner leaves encrypted for it (checked with openssl cms).
 */
describe('SMTP ingress, inbound S/MIME', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ingress: SmtpIngress;
  let tls: TestCa;
  let smime: SmimeCa;
  let payroll: Issued;
  let oldPayroll: Issued;
  let partner: Issued;
  let tenant: { tenantId: string; keyId: string; token: string; auth: string };
  let files: Awaited<ReturnType<typeof scratch>>;

  beforeAll(async () => {
    peer = await startSmtpPeer();
    tls = await createTestCa('Ingress Inbound TLS CA');
    const server = await tls.issueServer('localhost');
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-inbound-'));
    const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
    t = await createTestApp({
      smtp: peer,
      env: {
        SMTP_INGRESS_PORT: '0',
        SMTP_INGRESS_TLS_CERT_FILE: file('server.crt', server.certPem),
        SMTP_INGRESS_TLS_KEY_FILE: file('server.key', server.keyPem),
      },
    });
    ingress = await startSmtpIngress({ config: t.config, core: t.runtime.core, log: t.runtime.log });
    files = await scratch();
    smime = await createSmimeCa('Inbound S/MIME Test');
    payroll = await smime.issueUser('Payroll', { emails: ['payroll@example.com'] });
    oldPayroll = await smime.issueUser('Payroll 2025', { emails: ['payroll@example.com'], notBefore: new Date(Date.now() - 300 * DAY), notAfter: new Date(Date.now() - 10 * DAY) });
    partner = await smime.issueUser('Partner', { emails: ['partner@partner.example'] });

    tenant = await t.tenant({ senderDomains: ['example.com'] });
    const admin = { tenantId: tenant.tenantId, keyId: tenant.keyId, role: 'admin' as const, senderDomains: ['example.com'] };
    const res = await t.app.inject({ method: 'POST', url: '/v1/trust-anchors', headers: { authorization: await t.key(tenant.tenantId, 'admin') }, payload: { certificate: smime.root.certPem } });
    expect(res.statusCode, res.body).toBe(201);
    const chain = smime.intermediate.certPem;
    await importIdentity(t.runtime.core, admin, { certificate: payroll.certPem, privateKey: payroll.keyPem, chain });
    // Last year's key, expired ten days ago: imported as it was when valid, kept for decrypting.
    await importIdentity(t.runtime.core, admin, { certificate: oldPayroll.certPem, privateKey: oldPayroll.keyPem, chain }, { now: new Date(Date.now() - 20 * DAY) });
    await t.startWorker();
  });
  afterAll(async () => {
    await ingress?.close();
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  /** What the partner's mail client sends: signed by the partner (chain included), then encrypted to `to`. */
  const partnerMail = async (subject: string, body: string, encryptTo: Issued | undefined) => {
    const entity = Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
    const signed = await run('openssl', [
      'cms', '-sign', '-signer', await files.file('partner.crt', partner.certPem), '-inkey', await files.file('partner.key', partner.keyPem),
      '-certfile', await files.file('chain.pem', smime.intermediate.certPem), '-md', 'sha256',
      ...(encryptTo ? [] : ['-from', 'partner@partner.example', '-to', 'payroll@example.com', '-subject', subject]),
    ], entity);
    expect(signed.code, signed.stderr).toBe(0);
    if (!encryptTo) return signed.stdout;
    const encrypted = await run('openssl', [
      'cms', '-encrypt', '-aes256', '-from', 'partner@partner.example', '-to', 'payroll@example.com', '-subject', subject,
      await files.file(`to-${encryptTo.cert.serialNumber}.crt`, encryptTo.certPem),
    ], signed.stdout);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    return encrypted.stdout;
  };
  const client = () =>
    nodemailer.createTransport({
      host: '127.0.0.1', port: ingress.port, requireTLS: true,
      tls: { ca: tls.certPem, servername: 'localhost' },
      auth: { user: tenant.keyId, pass: tenant.token.slice(tenant.token.indexOf('.') + 1) },
    });
  const deliverInbound = (raw: Buffer) => client().sendMail({ envelope: { from: 'partner@partner.example', to: ['payroll@example.com'] }, raw });
  const contentOf = async (response: string) => {
    const id = /queued as ([0-9a-f-]{36})/.exec(response)![1]!;
    const row = (await findMessage(t.runtime.database.db, tenant.tenantId, id))!;
    return { row, content: openContent(t.runtime.cipher, id, row.content) };
  };

  it('decrypts, verifies, tags [secure] [signed OK], harvests the partner certificate, and encrypts the next message to the partner', async () => {
    const before = await listRecipientCertificates(t.runtime.database.db, tenant.tenantId, ['partner@partner.example']);
    expect(before).toEqual([]);
    const info = await deliverInbound(await partnerMail('Re: Payslip', 'Thank you, received.', payroll));
    const { row, content } = await contentOf(info.response);
    expect(content.subject).toBe('[secure] [signed OK] Re: Payslip');
    expect(content.text?.trim()).toBe('Thank you, received.');
    expect(row.fromAddress).toBe('partner@partner.example');
    expect(content.protection).toEqual({ sign: false, encryption: 'never' });

    const harvested = await listRecipientCertificates(t.runtime.database.db, tenant.tenantId, ['partner@partner.example']);
    expect(harvested).toHaveLength(1);
    expect(harvested[0]).toMatchObject({ source: 'harvested', scope: 'partner@partner.example', serial: expect.any(String) });

    // The next message to the partner, over the same door, leaves encrypted for the harvested certificate.
    const reply = await client().sendMail({
      from: 'payroll@example.com', to: 'partner@partner.example', subject: 'Your next payslip', text: 'Only for you.',
    });
    expect(reply.response).toMatch(/^250/);
    const delivered = await peer.mailTo('partner@partner.example', 30_000);
    expect(delivered.raw.toString('latin1')).toMatch(/^Content-Type: application\/pkcs7-mime; smime-type=enveloped-data/im);
    expect(delivered.raw.toString('latin1')).not.toContain('Only for you');
    const opened = await run('openssl', ['cms', '-decrypt', '-recip', await files.file('partner.crt', partner.certPem), '-inkey', await files.file('partner.key', partner.keyPem)], delivered.raw);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout.toString()).toContain('Only for you.');
  });

  it('decrypts with an expired key that is still held', async () => {
    const info = await deliverInbound(await partnerMail('Old thread', 'Encrypted to last year\'s key.', oldPayroll));
    const { content } = await contentOf(info.response);
    expect(content.subject).toBe('[secure] [signed OK] Old thread');
    expect(content.text?.trim()).toBe("Encrypted to last year's key.");
  });

  it('tags a signed, unencrypted message [signed OK] only', async () => {
    const info = await deliverInbound(await partnerMail('Signed only', 'Readable by all.', undefined));
    const { content } = await contentOf(info.response);
    expect(content.subject).toBe('[signed OK] Signed only');
  });

  it('does not tag a signature from a CA the tenant does not trust, and does not harvest it', async () => {
    const other = await createSmimeCa('Untrusted S/MIME');
    const stranger = await other.issueUser('Stranger', { emails: ['partner@partner.example'] });
    const entity = Buffer.from('Content-Type: text/plain\r\n\r\nhello\r\n');
    const signed = await run('openssl', ['cms', '-sign', '-signer', await files.file('s.crt', stranger.certPem), '-inkey', await files.file('s.key', stranger.keyPem),
      '-from', 'partner@partner.example', '-to', 'payroll@example.com', '-subject', 'Untrusted'], entity);
    const info = await deliverInbound(signed.stdout);
    const { content } = await contentOf(info.response);
    expect(content.subject).toBe('Untrusted');
    const stored = await listRecipientCertificates(t.runtime.database.db, tenant.tenantId, ['partner@partner.example']);
    expect(stored.map((r) => r.fingerprint)).not.toContain(createHash('sha256').update(Buffer.from(stranger.cert.rawData)).digest('hex'));
    expect(stored).toHaveLength(1);
  });

  it('refuses (554 5.7.5) what none of our keys decrypts, so the sender gets a bounce naming the reason', async () => {
    const someoneElse = await smime.issueUser('Someone', { emails: ['someone@example.com'] });
    const error = await deliverInbound(await partnerMail('Not for us', 'secret', someoneElse)).then(
      () => undefined,
      (e: { responseCode?: number; response?: string }) => e,
    );
    expect(error?.responseCode).toBe(554);
    expect(error?.response).toMatch(/5\.7\.5 the message is encrypted, but for none of the 2 key\(s\) held for payroll@example\.com/);
  });
});
