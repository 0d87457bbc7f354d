import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionRecipients } from '../../src/core/transition.ts';
import { canonicalContent } from '../../src/evidence/build-facts.ts';
import { createTestApp, pdfLike, submission, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa, type SmimeCa } from '../support/smime-certs.ts';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer.ts';
import { credentialsOf, envelope, faultOf, operation, soapPost, textOf } from '../support/soap.ts';
import { waitFor } from '../support/wait.ts';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../../bin/sealpost.js', import.meta.url));

interface Proof {
  id: string;
  type: string;
  eventType: string;
  sequence: number;
  sha256: string;
  previousSha256: string;
  recipientId: string | null;
}

/**
 * Evidence end to end: real submissions, a worker delivering to a real TLS SMTP
 * peer (one recipient refused with 550), portal outcomes recorded through the
 * one transition function, and every proof checked by openssl, the CLI, poppler.
 */
describe('evidence: signed, chained proofs of every delivery step', () => {
  let peer: SmtpPeer;
  let t: TestApp;
  let ca: SmimeCa;
  let files: Awaited<ReturnType<typeof scratch>>;
  let anchor: string;
  let submitter: string;
  let auditor: string;
  let token: string;
  let messageId: string;
  let proofs: Proof[];
  const slip = pdfLike(5000);

  const cli = async (...args: string[]) => exec(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '' } }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );
  const fetchProof = async (id: string, auth = auditor, accept?: string) =>
    t.app.inject({ url: `/v1/proofs/${id}`, headers: { authorization: auth, ...(accept && { accept }) } });

  beforeAll(async () => {
    peer = await startSmtpPeer();
    peer.behaviour.rcpt = (address) => (address.startsWith('bounce@') ? { code: 550, message: 'No such user' } : undefined);
    ca = await createSmimeCa('Sealpost Evidence Test');
    files = await scratch();
    const issuer = await ca.issueUser('Sealpost Evidence Service', { emails: ['evidence@sealpost.test'] });
    anchor = await files.file('root.pem', ca.root.certPem);
    t = await createTestApp({
      smtp: peer,
      env: {
        EVIDENCE_CERT_FILE: await files.file('evidence.pem', issuer.certPem + ca.intermediate.certPem),
        EVIDENCE_KEY_FILE: await files.file('evidence.key', issuer.keyPem),
        EVIDENCE_POLICY_ID: 'urn:example:policy:42',
      },
    });
    const tenant = await t.tenant({ senderDomains: ['example.com'] });
    submitter = tenant.auth;
    token = tenant.token;
    auditor = await t.key(tenant.tenantId, 'auditor');
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers: { authorization: submitter },
      payload: submission({
        to: ['anna@example.org', 'ben@example.org', 'cara@example.org', 'dora@example.org', 'bounce@example.org'],
        subject: 'Lohnabrechnung November',
        text: 'Ihre Lohnabrechnung liegt bei.',
        language: 'de',
        reference: 'PAY-2026-11',
        attachments: [{ filename: 'lohn.pdf', contentType: 'application/pdf', content: slip.toString('base64') }],
      }),
    });
    expect(res.statusCode, res.body).toBe(202);
    messageId = res.json().id;
    const recipients = res.json().recipients as Array<{ id: string; address: string }>;
    await t.startWorker();
    await waitFor(async () => (await t.app.inject({ url: `/v1/messages/${messageId}`, headers: { authorization: auditor } })).json().status === 'partially_delivered');
    // The portal's outcomes, recorded the one way recipient states change.
    const outcome = { 'anna@example.org': 'opened', 'ben@example.org': 'accepted_by_recipient', 'cara@example.org': 'refused', 'dora@example.org': 'expired' } as const;
    for (const [address, type] of Object.entries(outcome)) {
      const recipient = recipients.find((r) => r.address === address)!;
      await t.runtime.database.db.transaction((tx) =>
        transitionRecipients(tx, messageId, 'portal', [{ recipientId: recipient.id, to: type, event: { type, detail: { via: 'portal' } } }]),
      );
    }
    await waitFor(async () => (await t.app.inject({ url: `/v1/messages/${messageId}/proofs`, headers: { authorization: auditor } })).json().items?.length === 1 + 5 + 4);
    proofs = (await t.app.inject({ url: `/v1/messages/${messageId}/proofs`, headers: { authorization: auditor } })).json().items;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await peer?.close();
    await files?.remove();
  });

  it('issues one proof per evidence-worthy event, mapped to its ETSI type, chained in order', async () => {
    const byEvent = proofs.map((p) => `${p.eventType}:${p.type}`).sort();
    expect(byEvent).toEqual(
      [
        'submitted:SubmissionAcceptance',
        // No certificates here: confidential copies go as portal notifications (route 'portal').
        ...Array(4).fill('delivered:NotificationForAcceptance'),
        'failed:ContentConsignmentFailure',
        'opened:ContentHandover',
        'accepted_by_recipient:ConsignmentAcceptance',
        'refused:ConsignmentRejection',
        'expired:AcceptanceRejectionExpiry',
      ].sort(),
    );
    expect(proofs.map((p) => p.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(proofs[0]!.previousSha256).toBe('0'.repeat(64));
    for (let i = 1; i < proofs.length; i++) expect(proofs[i]!.previousSha256).toBe(proofs[i - 1]!.sha256);
    // Append-only, like the logbook.
    await expect(t.runtime.database.pool.query('UPDATE evidence SET type = $1', ['x'])).rejects.toThrow(/append-only/);
    await expect(t.runtime.database.pool.query('DELETE FROM evidence')).rejects.toThrow(/append-only/);
  });

  it('every proof verifies with openssl cms -verify against the anchor and carries the facts', async () => {
    for (const proof of proofs) {
      const res = await fetchProof(proof.id);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/pkcs7-mime/);
      const der = res.rawPayload;
      expect(createHash('sha256').update(der).digest('hex')).toBe(proof.sha256);
      const verified = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', anchor], der);
      expect(verified.code, verified.stderr).toBe(0);
      const xml = verified.stdout.toString('utf8');
      expect(xml).toContain('<Evidence xmlns="http://uri.etsi.org/19522/v1#"');
      expect(xml).toContain(`<ERDSEventId>http://uri.etsi.org/19522/Event/${proof.type}</ERDSEventId>`);
      expect(xml).toContain('<PolicyID>urn:example:policy:42</PolicyID>');
      expect(xml).toContain(`<sp:MessageId>${messageId}</sp:MessageId>`);
      expect(xml).toContain(`<sp:PreviousEvidenceDigest Algorithm="sha256-hex">${proof.previousSha256}</sp:PreviousEvidenceDigest>`);
      expect(xml).toContain(`<DigestValue>${createHash('sha256').update(slip).digest('base64')}</DigestValue>`);
      const content = canonicalContent({ subject: 'Lohnabrechnung November', text: 'Ihre Lohnabrechnung liegt bei.' });
      expect(content.toString()).toBe('{"subject":"Lohnabrechnung November","text":"Ihre Lohnabrechnung liegt bei."}');
      expect(xml).toContain(`<DigestValue>${createHash('sha256').update(content).digest('base64')}</DigestValue>`);
      if (proof.recipientId) expect(xml).toContain(`<sp:InternetMessageId>&lt;${proof.recipientId}@sealpost.test&gt;</sp:InternetMessageId>`);
      if (proof.type === 'ContentConsignmentFailure') expect(xml).toMatch(/<Code>permanent_failure<\/Code>/);
      // xmllint: well-formed.
      const lint = await run('xmllint', ['--noout', '-'], verified.stdout);
      expect(lint.code, lint.stderr).toBe(0);
    }
  });

  it('the CLI verifies the whole chain, and detects a changed byte, a missing proof, a wrong anchor', async () => {
    const paths: string[] = [];
    const ders: Buffer[] = [];
    for (const proof of proofs) {
      const der = (await fetchProof(proof.id)).rawPayload;
      ders.push(der);
      paths.push(await files.file(`proof-${proof.sequence}.p7m`, der));
    }
    const ok = await cli('proof', 'verify', ...[...paths].reverse(), '--ca', anchor);
    expect(ok.out).toContain('result: valid');
    expect(ok.code).toBe(0);

    // A changed byte inside the XML (the encapsulated content).
    const xmlAt = ders[2]!.indexOf(Buffer.from('<SubmissionTime>'));
    const tampered = Buffer.from(ders[2]!);
    tampered[xmlAt + 17] = tampered[xmlAt + 17]! ^ 1;
    const bad = await cli('proof', 'verify', paths[0]!, paths[1]!, await files.file('tampered.p7m', tampered), '--ca', anchor);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/INVALID .*tampered\.p7m[\s\S]*messageDigest/);

    // A chain link missing (proof #3 left out), or proofs from the middle only.
    const gap = await cli('proof', 'verify', paths[0]!, paths[1]!, paths[3]!, '--ca', anchor);
    expect(gap.code).toBe(1);
    expect(gap.out).toMatch(/CHAIN .*#4 but #3 comes next/);

    // A changed byte in the signature itself.
    const sigTampered = Buffer.from(ders[0]!);
    sigTampered[sigTampered.length - 5] = sigTampered[sigTampered.length - 5]! ^ 0x40;
    expect((await cli('proof', 'verify', await files.file('sig.p7m', sigTampered), '--ca', anchor)).code).toBe(1);

    // Another CA as anchor: signature intact, signer not trusted.
    const other = await createSmimeCa('Someone Else');
    const foreign = await cli('proof', 'verify', paths[0]!, '--ca', await files.file('other.pem', other.root.certPem));
    expect(foreign.code).toBe(1);
    expect(foreign.out).toMatch(/certificate chain/);

    // Usage errors.
    expect((await cli('proof', 'verify')).code).toBe(2);
    expect((await cli('proof', 'verify', join(files.dir, 'missing.p7m'))).code).toBe(2);
  });

  it('serves a localized PDF receipt with the signed evidence attached', async () => {
    const submitted = proofs.find((p) => p.type === 'SubmissionAcceptance')!;
    const refused = proofs.find((p) => p.type === 'ConsignmentRejection')!;
    for (const [proof, title] of [[submitted, 'Abgabequittung'], [refused, 'Annahmeverweigerungsquittung']] as const) {
      const res = await fetchProof(proof.id, submitter, 'application/pdf');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const pdf = await files.file(`receipt-${proof.sequence}.pdf`, res.rawPayload);
      const text = (await run('pdftotext', ['-layout', pdf, '-'])).stdout.toString();
      expect(text).toContain(title);
      expect(text).toContain(messageId);
      expect(text).toContain('PAY-2026-11');
      expect(text).toContain('payroll@example.com');
      const out = join(files.dir, `detached-${proof.sequence}`);
      await run('mkdir', ['-p', out]);
      const detach = await run('pdfdetach', ['-saveall', '-o', out, pdf]);
      expect(detach.code, detach.stderr).toBe(0);
      const [attached] = await readdir(out);
      expect(attached).toBe(`evidence-${proof.id}.p7m`);
      const der = await readFile(join(out, attached!));
      expect(createHash('sha256').update(der).digest('hex')).toBe(proof.sha256);
      const verified = await run('openssl', ['cms', '-verify', '-inform', 'DER', '-CAfile', anchor], der);
      expect(verified.code, verified.stderr).toBe(0);
    }
  });

  it('another tenant gets 404, an admin key 403, a bad id 404', async () => {
    const stranger = await t.tenant({ role: 'auditor' });
    expect((await fetchProof(proofs[0]!.id, stranger.auth)).statusCode).toBe(404);
    expect((await fetchProof(proofs[0]!.id, stranger.auth, 'application/pdf')).statusCode).toBe(404);
    expect((await t.app.inject({ url: `/v1/messages/${messageId}/proofs`, headers: { authorization: stranger.auth } })).statusCode).toBe(404);
    const admin = await t.tenant({ role: 'admin' });
    expect((await fetchProof(proofs[0]!.id, admin.auth)).statusCode).toBe(403);
    const bad = await fetchProof('not-a-uuid');
    expect(bad.statusCode).toBe(404);
    expect(bad.json().code).toBe('not_found');
  });

  it('SOAP GetDeliveryProof returns the same signed bytes; another tenant gets a not_found fault', async () => {
    const proof = proofs[0]!;
    const res = await soapPost(t.app, envelope(operation('GetDeliveryProof', { proofId: proof.id }), credentialsOf(token)));
    expect(res.statusCode, res.body).toBe(200);
    expect(textOf(res.body, 'type')).toBe('SubmissionAcceptance');
    const der = Buffer.from(textOf(res.body, 'evidence')!, 'base64');
    expect(createHash('sha256').update(der).digest('hex')).toBe(proof.sha256);
    const stranger = await t.tenant({ role: 'auditor' });
    const foreign = await soapPost(t.app, envelope(operation('GetDeliveryProof', { proofId: proof.id }), credentialsOf(stranger.token)));
    expect(faultOf(foreign)).toMatchObject({ code: 'not_found' });
  });
});
