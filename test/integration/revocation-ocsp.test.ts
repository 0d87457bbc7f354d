import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationNetwork } from '../../src/pki/revocation-network.ts';
import type { OcspMode } from '../../src/pki/revocation.ts';
import { validateCertificate, type ValidationOptions } from '../../src/pki/validate.ts';
import { x509 } from '../../src/pki/x509.ts';
import { createCmsEngine } from '../../src/smime/engine.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { freePort } from '../support/local.ts';
import { startLoopbackServer, startOcspResponder, type LoopbackServer, type OcspResponder } from '../support/revocation-servers.ts';
import { createSmimeCa, OCSP_SIGNING, type Issued, type SmimeCa } from '../support/smime-certs.ts';

// OCSP against a real OpenSSL responder on loopback (test/support/revocation-servers.ts).
const DAY = 24 * 3600_000;

describe('OCSP', () => {
  let ca: SmimeCa;
  let responderCert: Issued;
  let responder: OcspResponder;
  let good: Issued;
  let revoked: Issued;
  const engine = createCmsEngine();

  const network = (mode: Exclude<OcspMode, 'off'>, extra: { ocspUrl?: string; timeoutMs?: number; crlUrls?: string } = {}) =>
    createRevocationNetwork({ crlFetch: 'off', ocsp: mode, timeoutMs: extra.timeoutMs ?? 3000, engine, ...(extra.ocspUrl && { ocspUrl: extra.ocspUrl }), ...(extra.crlUrls && { crlUrls: extra.crlUrls }) });
  const validate = (user: Issued, o: Partial<ValidationOptions>) =>
    validateCertificate(user.cert, {
      purpose: 'sign',
      address: user.cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.items[0]!.value,
      at: new Date(),
      anchors: [ca.root.cert],
      chain: [ca.intermediate.cert],
      ...o,
    });
  const issue = (name: string, ocspUrl: string | undefined) =>
    ca.issueUser(name, { emails: [`${name.toLowerCase()}@example.org`], ...(ocspUrl && { ocspUrls: [ocspUrl] }) });

  beforeAll(async () => {
    ca = await createSmimeCa('OCSP Test');
    responderCert = await ca.issueUser('OCSP Responder', { keyUsage: x509.KeyUsageFlags.digitalSignature, eku: [OCSP_SIGNING] });
    responder = await startOcspResponder({ ca: ca.intermediate, signer: responderCert, entries: [], nextUpdateDays: 1 });
    good = await issue('Good', `${responder.ocspUrl}`);
    revoked = await issue('Revoked', `${responder.ocspUrl}`);
    await responder.setIndex([{ cert: good.cert }, { cert: revoked.cert, revokedAt: new Date(Date.now() - 3600_000) }]);
  });
  afterAll(async () => responder?.close());

  it('accepts a certificate the responder (a delegated id-kp-OCSPSigning certificate) says is good, and caches the answer until nextUpdate', async () => {
    const revocation = network('on');
    const before = responder.requests();
    expect(await validate(good, { revocation })).toMatchObject({ ok: true });
    expect(await validate(good, { revocation })).toMatchObject({ ok: true });
    expect(responder.requests() - before).toBe(1);
  });

  it('refuses a revoked certificate, with the revocation time and reason, not softly', async () => {
    const result = await validate(revoked, { revocation: network('on') });
    expect(result).toEqual({
      ok: false,
      check: 'revocation',
      reason: expect.stringMatching(new RegExp(`^the certificate "CN=Revoked", serial ${revoked.cert.serialNumber.toLowerCase()} was revoked on \\d{4}-.* \\(keyCompromise\\), says the OCSP responder http://127\\.0\\.0\\.1:\\d+/ocsp$`)),
    });
  });

  it('accepts answers signed by the issuing CA itself', async () => {
    const direct = await startOcspResponder({ ca: ca.intermediate, signer: ca.intermediate, entries: [], nextUpdateDays: 1 });
    try {
      const user = await issue('Direct', direct.ocspUrl);
      await direct.setIndex([{ cert: user.cert }]);
      expect(await validate(user, { revocation: network('on') })).toMatchObject({ ok: true });
    } finally {
      await direct.close();
    }
  });

  it('refuses, softly, answers signed by an unrelated key or by a responder certificate without id-kp-OCSPSigning', async () => {
    const stranger = (await createSmimeCa('Stranger')).intermediate;
    const noEku = await ca.issueUser('Not a responder', { keyUsage: x509.KeyUsageFlags.digitalSignature });
    for (const [signer, why] of [
      [stranger, /not signed by the issuing CA or a responder it authorised/],
      [noEku, /not signed by the issuing CA or a responder it authorised .*not authorized/],
    ] as const) {
      const forger = await startOcspResponder({ ca: ca.intermediate, signer, entries: [], nextUpdateDays: 1 });
      try {
        const user = await issue('Forged', forger.ocspUrl);
        await forger.setIndex([{ cert: user.cert }]);
        const result = await validate(user, { revocation: network('on') });
        expect(result).toMatchObject({ ok: false, check: 'revocation', soft: true, reason: expect.stringMatching(why) });
        expect(forger.requests()).toBe(1);
      } finally {
        await forger.close();
      }
    }
  });

  it('refuses, softly, when the responder is down or too slow, and asks a dead responder only once per retry period', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/ocsp`;
    const down = await issue('Down', closed);
    const revocation = network('on');
    expect(await validate(down, { revocation })).toMatchObject({
      ok: false,
      check: 'revocation',
      soft: true,
      reason: expect.stringMatching(/^revocation status of "CN=Down", serial [0-9a-f]+ unknown: the OCSP responder http:\/\/127\.0\.0\.1:\d+\/ocsp: ECONNREFUSED$/),
    });
    expect(await validate(down, { revocation })).toMatchObject({ soft: true, reason: expect.stringMatching(/not asked again for 30 s/) });

    const slow: LoopbackServer = await startLoopbackServer();
    try {
      slow.set('/ocsp', 'hang');
      const user = await issue('Slow', `${slow.url}/ocsp`);
      expect(await validate(user, { revocation: network('on', { timeoutMs: 300 }) })).toMatchObject({ soft: true, reason: expect.stringMatching(/no complete answer within 300 ms/) });
      slow.set('/ocsp', Buffer.from('not DER at all'));
      expect(await validate(user, { revocation: network('on') })).toMatchObject({ soft: true, reason: expect.stringMatching(/the response is not an OCSP response/) });
    } finally {
      await slow.close();
    }
  });

  it('with OCSP=on, falls back to a current CRL when the responder fails; with require, it does not', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/ocsp`;
    const user = await issue('Fallback', closed);
    const crl = await ca.crl({});
    expect(await validate(user, { revocation: network('on'), crls: [crl] })).toMatchObject({ ok: true });
    expect(await validate(user, { revocation: network('require'), crls: [crl] })).toMatchObject({ ok: false, soft: true, reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('refuses, softly, a response past its nextUpdate at the time of use', async () => {
    // The responder's answers carry nextUpdate = now + 1 day; used two days from now they are stale.
    const result = await validate(good, { revocation: network('on'), at: new Date(Date.now() + 2 * DAY) });
    expect(result).toMatchObject({ ok: false, check: 'revocation', soft: true, reason: expect.stringMatching(/the response is out of date \(nextUpdate \d{4}-/) });
  });

  it('with require, refuses a certificate that names no responder; OCSP_URL overrides the certificate', async () => {
    const plain = await issue('Plain', undefined);
    await responder.setIndex([{ cert: good.cert }, { cert: revoked.cert, revokedAt: new Date(Date.now() - 3600_000) }, { cert: plain.cert }]);
    expect(await validate(plain, { revocation: network('require') })).toMatchObject({
      ok: false,
      soft: true,
      reason: expect.stringMatching(/names no OCSP responder \(authorityInfoAccess\) and OCSP_URL is not set/),
    });
    expect(await validate(plain, { revocation: network('on') })).toMatchObject({ ok: true });
    expect(await validate(plain, { revocation: network('require', { ocspUrl: responder.ocspUrl }) })).toMatchObject({ ok: true });
  });
});

describe('OCSP through the application (OCSP=on)', () => {
  let t: TestApp;
  let ca: SmimeCa;
  let responder: OcspResponder;
  let admin: { auth: string };
  const call = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });

  beforeAll(async () => {
    ca = await createSmimeCa('OCSP App');
    responder = await startOcspResponder({ ca: ca.intermediate, signer: ca.intermediate, entries: [], nextUpdateDays: 1 });
    t = await createTestApp({ env: { OCSP: 'on', REVOCATION_TIMEOUT_MS: '2000' } });
    admin = await t.tenant({ role: 'admin' });
    expect((await call('/v1/trust-anchors', { certificate: ca.root.certPem })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await responder?.close();
  });

  it('refuses to import a recipient certificate or a signing identity the responder says is revoked', async () => {
    const anna = await ca.issueUser('Anna', { emails: ['anna@customer.example'], ocspUrls: [responder.ocspUrl] });
    const payroll = await ca.issueUser('Payroll', { emails: ['payroll@acme.example'], ocspUrls: [responder.ocspUrl] });
    await responder.setIndex([{ cert: anna.cert, revokedAt: new Date(Date.now() - 60_000) }, { cert: payroll.cert, revokedAt: new Date(Date.now() - 60_000) }]);
    const recipient = await call('/v1/certificates', { certificate: anna.certPem, chain: ca.intermediate.certPem });
    expect([recipient.statusCode, recipient.json()]).toMatchObject([422, { code: 'certificate_rejected', details: { check: 'revocation', reason: expect.stringMatching(/was revoked on .*says the OCSP responder/) } }]);
    const identity = await call('/v1/identities', { certificate: payroll.certPem, privateKey: payroll.keyPem, chain: ca.intermediate.certPem });
    expect([identity.statusCode, identity.json()]).toMatchObject([422, { code: 'certificate_rejected', details: { check: 'revocation' } }]);
  });

  it('imports one the responder says is good', async () => {
    const bob = await ca.issueUser('Bob', { emails: ['bob@customer.example'], ocspUrls: [responder.ocspUrl] });
    await responder.setIndex([{ cert: bob.cert }]);
    const res = await call('/v1/certificates', { certificate: bob.certPem, chain: ca.intermediate.certPem });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ validation: { ok: true } });
  });
});
