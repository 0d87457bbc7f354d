import { beforeAll, describe, expect, it } from 'vitest';
import { readPkcs12 } from '../../src/pki/pkcs12.ts';
import { keyAlgorithmOf, keyMatchesCertificate, parsePrivateKey } from '../../src/pki/private-key.ts';
import { createSmimeCa, opensslPkcs12, pkcs12Algorithms, type SmimeCa } from '../support/smime-certs.ts';

describe('readPkcs12 (files written by openssl pkcs12 -export)', () => {
  let ca: SmimeCa;
  beforeAll(async () => {
    ca = await createSmimeCa();
  });

  for (const kind of ['rsa', 'ec'] as const) {
    for (const legacy of [false, true]) {
      it(`reads a ${legacy ? 'legacy 3DES/RC2' : 'modern AES'} file with an ${kind.toUpperCase()} key`, async () => {
        const user = await ca.issueUser('Anna', { kind, emails: ['anna@example.org'] });
        const file = await opensslPkcs12(user, [ca.intermediate, ca.root], 's3cret pass', { legacy });
        expect(await pkcs12Algorithms(file, 's3cret pass')).toMatch(legacy ? /pbeWithSHA1And(3-KeyTripleDES|40BitRC2)/ : /PBES2.*AES-256-CBC/);

        const read = await readPkcs12(file, 's3cret pass');
        expect(read.certificate.serialNumber).toBe(user.cert.serialNumber);
        expect(read.privateKey.equals(user.keyDer)).toBe(true);
        expect(read.chain.map((c) => c.subject).sort()).toEqual([ca.intermediate.cert.subject, ca.root.cert.subject].sort());
        expect(keyAlgorithmOf(read.privateKey)).toBe(kind === 'rsa' ? 'rsa-2048' : 'ec-prime256v1');
      });
    }
  }

  it('says the password is wrong, for modern and legacy files alike', async () => {
    const user = await ca.issueUser('Anna', { kind: 'ec', emails: ['anna@example.org'] });
    for (const legacy of [false, true]) {
      const file = await opensslPkcs12(user, [], 'right', { legacy });
      await expect(readPkcs12(file, 'wrong')).rejects.toMatchObject({ problem: 'wrong_password', message: expect.stringMatching(/password is wrong/) });
    }
  });

  it('refuses what is not a PKCS#12 file', async () => {
    await expect(readPkcs12(Buffer.from('definitely not PKCS#12'), 'x')).rejects.toMatchObject({ problem: 'invalid_pkcs12' });
  });
});

describe('private keys', () => {
  it('reads PEM keys and tells whether they belong to a certificate', async () => {
    const ca = await createSmimeCa();
    const anna = await ca.issueUser('Anna', { emails: ['anna@example.org'] });
    const bob = await ca.issueUser('Bob', { kind: 'ec', emails: ['bob@example.org'] });
    const key = parsePrivateKey(anna.keyPem);
    expect(key.equals(anna.keyDer)).toBe(true);
    expect(keyMatchesCertificate(key, anna.cert)).toBe(true);
    expect(keyMatchesCertificate(key, bob.cert)).toBe(false);
    expect(keyMatchesCertificate(parsePrivateKey(bob.keyDer), bob.cert)).toBe(true);
    expect(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')).toThrow(/not a PEM or PKCS#8 DER key/);
  });
});
