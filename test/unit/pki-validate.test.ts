import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, parseCertificates, summarise } from '../../src/pki/certificate.ts';
import { parseCrls } from '../../src/pki/crl.ts';
import { validateCertificate, type ValidationOptions } from '../../src/pki/validate.ts';
import { x509 } from '../../src/pki/x509.ts';
import { CLIENT_AUTH, createSmimeCa, type SmimeCa } from '../support/smime-certs.ts';

const DAY = 24 * 3600_000;

describe('validateCertificate', () => {
  let ca: SmimeCa;
  let other: SmimeCa;
  const opts = (o: Partial<ValidationOptions> = {}): ValidationOptions => ({
    purpose: 'sign',
    address: 'anna@example.org',
    at: new Date(),
    anchors: [ca.root.cert],
    chain: [ca.intermediate.cert],
    ...o,
  });

  beforeAll(async () => {
    ca = await createSmimeCa();
    other = await createSmimeCa('Elsewhere');
  });

  it('accepts RSA and P-256 certificates for signing and encryption, chained through the intermediate', async () => {
    for (const kind of ['rsa', 'ec'] as const) {
      const user = await ca.issueUser('Anna', { kind, emails: ['Anna@Example.org'] });
      for (const purpose of ['sign', 'encrypt'] as const) {
        const result = await validateCertificate(user.cert, opts({ purpose, address: 'ANNA@example.org' }));
        expect(result).toMatchObject({ ok: true });
        if (result.ok) expect(result.path.map((c) => c.subject)).toEqual(['CN=Anna', ca.intermediate.cert.subject, ca.root.cert.subject]);
      }
    }
  });

  it('refuses expired and not-yet-valid certificates, saying when', async () => {
    const expired = await ca.issueUser('Old', { emails: ['anna@example.org'], notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) });
    expect(await validateCertificate(expired.cert, opts())).toEqual({
      ok: false,
      check: 'validity',
      reason: expect.stringMatching(/^the certificate expired on \d{4}-.*"CN=Old"/),
    });
    const future = await ca.issueUser('Future', { emails: ['anna@example.org'], notBefore: new Date(Date.now() + DAY) });
    expect(await validateCertificate(future.cert, opts())).toMatchObject({ ok: false, check: 'validity', reason: expect.stringMatching(/is not valid yet: valid from/) });
    // The same certificate is fine at a time inside its validity.
    expect(await validateCertificate(expired.cert, opts({ at: new Date(Date.now() - 10 * DAY) }))).toMatchObject({ ok: true });
  });

  it('checks key usage by purpose and key type', async () => {
    const encryptOnly = await ca.issueUser('Enc', { emails: ['anna@example.org'], keyUsage: x509.KeyUsageFlags.keyEncipherment });
    expect(await validateCertificate(encryptOnly.cert, opts())).toMatchObject({ ok: false, check: 'key_usage', reason: 'the key usage does not allow digitalSignature, needed to sign' });
    const signOnly = await ca.issueUser('Sig', { emails: ['anna@example.org'], keyUsage: x509.KeyUsageFlags.digitalSignature });
    expect(await validateCertificate(signOnly.cert, opts({ purpose: 'encrypt' }))).toMatchObject({ reason: 'the key usage does not allow keyEncipherment, needed to encrypt to an RSA key' });
    const ecSignOnly = await ca.issueUser('EcSig', { kind: 'ec', emails: ['anna@example.org'], keyUsage: x509.KeyUsageFlags.digitalSignature });
    expect(await validateCertificate(ecSignOnly.cert, opts({ purpose: 'encrypt' }))).toMatchObject({ reason: 'the key usage does not allow keyAgreement, needed to encrypt to an EC key' });
  });

  it('requires emailProtection when an extended key usage is present, and accepts none', async () => {
    const tls = await ca.issueUser('Tls', { emails: ['anna@example.org'], eku: [CLIENT_AUTH] });
    expect(await validateCertificate(tls.cert, opts())).toEqual({
      ok: false,
      check: 'extended_key_usage',
      reason: `the extended key usage (${CLIENT_AUTH}) does not include emailProtection (1.3.6.1.5.5.7.3.4)`,
    });
    const noEku = await ca.issueUser('NoEku', { emails: ['anna@example.org'], eku: null });
    expect(await validateCertificate(noEku.cert, opts())).toMatchObject({ ok: true });
  });

  it('matches the address case-insensitively, or the domain for a domain certificate', async () => {
    const anna = await ca.issueUser('Anna', { emails: ['anna@example.org'] });
    expect(await validateCertificate(anna.cert, opts({ address: 'bob@example.org' }))).toEqual({
      ok: false,
      check: 'address',
      reason: 'the certificate is for anna@example.org, not bob@example.org',
    });
    expect(await validateCertificate(anna.cert, opts({ address: 'example.org' }))).toMatchObject({ check: 'address' });
    const domain = await ca.issueUser('Example Org gateway', { domains: ['example.org'] });
    expect(await validateCertificate(domain.cert, opts({ address: 'bob@EXAMPLE.org' }))).toMatchObject({ ok: true });
    expect(await validateCertificate(domain.cert, opts({ address: 'example.org' }))).toMatchObject({ ok: true });
    expect(await validateCertificate(domain.cert, opts({ address: 'bob@example.net' }))).toMatchObject({ reason: 'the certificate is for example.org, not bob@example.net' });
    const nameless = await ca.issueUser('Nameless');
    expect(await validateCertificate(nameless.cert, opts())).toMatchObject({ reason: expect.stringMatching(/names no e-mail address/) });
  });

  it('needs a chain to a configured anchor', async () => {
    const anna = await ca.issueUser('Anna', { emails: ['anna@example.org'] });
    expect(await validateCertificate(anna.cert, opts({ chain: [] }))).toEqual({
      ok: false,
      check: 'chain',
      reason: `no chain to a trusted anchor: the issuer "${ca.intermediate.cert.subject}" of "CN=Anna" is neither a trust anchor nor in the supplied chain`,
    });
    expect(await validateCertificate(anna.cert, opts({ anchors: [other.root.cert] }))).toMatchObject({ check: 'chain', reason: expect.stringMatching(/^no chain to a trusted anchor: the issuer "CN=Sealpost S\/MIME Test Root"/) });
    expect(await validateCertificate(anna.cert, opts({ anchors: [] }))).toMatchObject({ check: 'chain', reason: expect.stringMatching(/no trust anchor is configured/) });
    // The intermediate itself as the anchor is enough.
    expect(await validateCertificate(anna.cert, opts({ anchors: [ca.intermediate.cert], chain: [] }))).toMatchObject({ ok: true });
    // A look-alike CA with the same name but another key does not verify the signature.
    const impostor = await createSmimeCa();
    expect(await validateCertificate(anna.cert, opts({ chain: [impostor.intermediate.cert] }))).toMatchObject({
      check: 'chain',
      reason: `the signature on "CN=Anna" does not verify with the key of "${ca.intermediate.cert.subject}"`,
    });
  });

  it('refuses a certificate the CRL revokes, and says when the CRL is out of date', async () => {
    const anna = await ca.issueUser('Anna', { emails: ['anna@example.org'] });
    const bob = await ca.issueUser('Bob', { emails: ['bob@example.org'] });
    const crl = await ca.crl({ revoked: [{ serial: anna.cert.serialNumber }] });
    // Through PEM, as a configured file would be.
    const [parsed] = parseCrls(crl.toString('pem'));
    expect(await validateCertificate(anna.cert, opts({ crls: [parsed!] }))).toEqual({
      ok: false,
      check: 'revocation',
      reason: expect.stringMatching(new RegExp(`^the certificate "CN=Anna", serial ${anna.cert.serialNumber.toLowerCase()} was revoked on .* \\(keyCompromise\\)$`)),
    });
    expect(await validateCertificate(bob.cert, opts({ address: 'bob@example.org', crls: [parsed!] }))).toMatchObject({ ok: true });

    const stale = await ca.crl({ thisUpdate: new Date(Date.now() - 10 * DAY), nextUpdate: new Date(Date.now() - DAY) });
    expect(await validateCertificate(bob.cert, opts({ address: 'bob@example.org', crls: [stale] }))).toEqual({
      ok: false,
      check: 'revocation',
      soft: true,
      reason: expect.stringMatching(/^the CRL of "CN=Sealpost S\/MIME Test Intermediate" is out of date \(nextUpdate .*\); revocation status unknown$/),
    });

    const forged = await ca.crl({ revoked: [{ serial: bob.cert.serialNumber }], signer: (await createSmimeCa()).intermediate });
    expect(await validateCertificate(bob.cert, opts({ address: 'bob@example.org', crls: [forged] }))).toMatchObject({
      check: 'revocation',
      reason: expect.stringMatching(/is not signed by that CA's key/),
    });
  });
});

describe('parseCertificates', () => {
  it('reads PEM bundles, DER bytes and base64 DER, and names what it could not read', async () => {
    const ca = await createSmimeCa();
    const user = await ca.issueUser('Anna', { emails: ['Anna@example.org'] });
    const der = Buffer.from(user.cert.rawData);
    expect(parseCertificate(der).serialNumber).toBe(user.cert.serialNumber);
    expect(parseCertificate(der.toString('base64')).serialNumber).toBe(user.cert.serialNumber);
    expect(parseCertificates(user.certPem + ca.intermediate.certPem)).toHaveLength(2);
    expect(summarise(user.cert)).toMatchObject({ emails: ['anna@example.org'], subject: 'CN=Anna', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(() => parseCertificate('hello, world')).toThrow(/expected a PEM certificate, or DER as base64/);
    expect(() => parseCertificate(Buffer.from('not a certificate at all'))).toThrow(/not an X.509 certificate/);
    expect(() => parseCertificate(user.certPem + user.certPem)).toThrow(/expected one certificate, found 2/);
  });
});
