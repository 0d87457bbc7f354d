import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSigningIdentity } from '../../src/core/identities.ts';
import { derOf } from '../../src/pki/certificate.ts';
import { createSmimePool, signMessage, verifyMessage } from '../../src/smime/index.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { run, scratch } from '../support/openssl-cms.ts';
import { createSmimeCa, type SmimeCa } from '../support/smime-certs.ts';

// A signer whose certificate carries an id-RSASSA-PSS public key, made by openssl and signed by the test CA.
const message = Buffer.from(
  'From: payroll@pss.example\r\nTo: anna@example.org\r\nSubject: PSS\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSigned with RSASSA-PSS.\r\n',
);

describe('an identity with an id-RSASSA-PSS key', () => {
  let t: TestApp;
  let ca: SmimeCa;
  let files: Awaited<ReturnType<typeof scratch>>;
  let admin: { tenantId: string; auth: string };
  const pss: Record<'plain' | 'restricted', { certPem: string; keyPem: string }> = {} as never;
  const call = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: { authorization: admin.auth }, payload });
  const openssl = async (args: string[]) => {
    const result = await run('openssl', args);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  beforeAll(async () => {
    ca = await createSmimeCa('PSS Test');
    files = await scratch();
    const caCert = await files.file('ca.pem', ca.intermediate.certPem);
    const caKey = await files.file('ca.key', ca.intermediate.keyPem);
    const ext = await files.file('ext.cnf', ['[ext]', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=emailProtection', 'subjectAltName=email:payroll@pss.example', ''].join('\n'));
    // Unrestricted id-RSASSA-PSS key (no parameters), and one restricted to SHA-256 / MGF1-SHA-256 / salt 32.
    for (const [name, options] of [
      ['plain', []],
      ['restricted', ['-pkeyopt', 'rsa_pss_keygen_md:sha256', '-pkeyopt', 'rsa_pss_keygen_mgf1_md:sha256', '-pkeyopt', 'rsa_pss_keygen_saltlen:32']],
    ] as const) {
      const key = `${files.dir}/${name}.key`;
      const csr = `${files.dir}/${name}.csr`;
      const cert = `${files.dir}/${name}.pem`;
      await openssl(['req', '-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048', ...options, '-nodes', '-keyout', key, '-subj', `/CN=PSS ${name}`, '-out', csr]);
      await openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-extensions', 'ext', '-out', cert]);
      const text = (await openssl(['x509', '-in', cert, '-noout', '-text'])).stdout.toString();
      expect(text).toMatch(/Public Key Algorithm: rsassaPss/);
      const { readFile } = await import('node:fs/promises');
      pss[name] = { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
    }
    t = await createTestApp();
    admin = await t.tenant({ role: 'admin' });
    expect((await call('/v1/trust-anchors', { certificate: ca.root.certPem })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await files?.remove();
  });

  it.each(['plain', 'restricted'] as const)('%s: imports as a signing identity, signs (engine and pool, detached and opaque), openssl cms -verify accepts it', async (name) => {
    const imported = await call('/v1/identities', { certificate: pss[name].certPem, privateKey: pss[name].keyPem, chain: ca.intermediate.certPem });
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json()).toMatchObject({ keyAlgorithm: 'rsa-pss-2048', validation: { ok: true } });

    const identity = await chooseSigningIdentity(t.runtime.core, admin.tenantId, 'payroll@pss.example');
    expect(identity?.id).toBe(imported.json().id);
    const signer = { certificate: derOf(identity!.certificate), privateKey: identity!.privateKey, chain: identity!.chain.map(derOf) };
    const anchor = await files.file('root.pem', ca.root.certPem);
    const pool = createSmimePool({ size: 1 });
    try {
      for (const [signed, detached] of [
        [await signMessage(message, signer), true],
        [await signMessage(message, signer, { detached: false }), false],
        [await pool.signMessage(message, signer), true],
      ] as const) {
        const verified = await run('openssl', ['cms', '-verify', '-CAfile', anchor, '-purpose', 'smimesign'], signed);
        expect(verified.code, verified.stderr).toBe(0);
        expect(verified.stderr).toMatch(/Verification successful/);
        expect(verified.stdout.toString()).toContain('Signed with RSASSA-PSS.');
        const printed = (await run('openssl', ['cms', '-cmsout', '-print'], signed)).stdout.toString();
        expect(printed).toMatch(/signatureAlgorithm:\s+algorithm: rsassaPss/);
        expect(await verifyMessage(signed, { trustedCertificates: [ca.root.certPem] })).toMatchObject({ valid: true });
        // A flipped byte in the signed content (in clear when detached, inside the base64 CMS when opaque) breaks it.
        const broken = Buffer.from(signed);
        const at = detached ? broken.indexOf('Signed with') : broken.length - 40;
        expect(at).toBeGreaterThan(0);
        broken[at] = broken[at] === 0x41 ? 0x42 : 0x41;
        expect((await run('openssl', ['cms', '-verify', '-CAfile', anchor, '-purpose', 'smimesign'], broken)).code).not.toBe(0);
      }
    } finally {
      await pool.close();
      await t.app.inject({ method: 'DELETE', url: `/v1/identities/${imported.json().id}`, headers: { authorization: admin.auth } });
    }
  });

  it('refuses an id-RSASSA-PSS certificate as a recipient certificate: nothing can be encrypted to it', async () => {
    const res = await call('/v1/certificates', { certificate: pss.plain.certPem, chain: ca.intermediate.certPem });
    expect([res.statusCode, res.json()]).toMatchObject([422, { code: 'certificate_rejected', details: { check: 'key_usage', reason: expect.stringMatching(/RSASSA-PSS key .* can only sign/) } }]);
  });
});
