import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';

/**
 * A throwaway S/MIME CA for the src/smime tests (root → user, generated in the
 * test, never a checked-in key). The certificate store's own CA with
 * intermediates, CRLs and PKCS#12 lives in smime-certs.ts.
 */
export type SmimeAlgorithm = 'rsa' | 'rsa-pss' | 'ec-p256';

export interface SmimeUser {
  algorithm: SmimeAlgorithm;
  email: string;
  certPem: string;
  certDer: Buffer;
  keyPem: string;
  privateKey: KeyObject;
}

export interface SmimeTestCa {
  certPem: string;
  certDer: Buffer;
  issueSmime(commonName: string, email: string, options?: { algorithm?: SmimeAlgorithm }): Promise<SmimeUser>;
}

const DAY = 24 * 3600_000;
const rsaSha256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const keyParameters: Record<SmimeAlgorithm, RsaHashedKeyGenParams | EcKeyGenParams> = {
  rsa: rsaSha256,
  // WebCrypto exports RSA-PSS keys as rsaEncryption SPKI: the certificate is an ordinary RSA one, the signer chooses PSS.
  'rsa-pss': { ...rsaSha256, name: 'RSA-PSS' },
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256' },
};

export async function createSmimeTestCa(name = 'Sealpost S/MIME Engine Test CA'): Promise<SmimeTestCa> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const now = Date.now();
  const caKeys = (await webcrypto.subtle.generateKey(rsaSha256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 30 * DAY),
    keys: caKeys,
    signingAlgorithm: rsaSha256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  return {
    certPem: ca.toString('pem') + '\n',
    certDer: Buffer.from(ca.rawData),
    async issueSmime(commonName, email, { algorithm = 'rsa' } = {}) {
      const keys = (await webcrypto.subtle.generateKey(keyParameters[algorithm], true, ['sign', 'verify'])) as CryptoKeyPair;
      const usage =
        x509.KeyUsageFlags.digitalSignature |
        x509.KeyUsageFlags.nonRepudiation |
        (algorithm === 'ec-p256' ? x509.KeyUsageFlags.keyAgreement : x509.KeyUsageFlags.keyEncipherment);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${commonName}, E=${email}`,
        issuer: ca.subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 30 * DAY),
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: rsaSha256,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(usage, true),
          new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.4']),
          new x509.SubjectAlternativeNameExtension([{ type: 'email', value: email }]),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
          await x509.AuthorityKeyIdentifierExtension.create(ca),
        ],
      });
      const keyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
      const privateKey = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
      return {
        algorithm,
        email,
        certPem: cert.toString('pem') + '\n',
        certDer: Buffer.from(cert.rawData),
        keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        privateKey,
      };
    },
  };
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[0-9a-f]/, '1');
