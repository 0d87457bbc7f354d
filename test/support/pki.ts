import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as Crypto);

const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

export interface Issued {
  certPem: string;
  keyPem: string;
}

export interface TestCa extends Issued {
  /** A TLS server certificate for 127.0.0.1 / localhost, or for the DNS `names` given. */
  issueServer(commonName?: string, names?: string[]): Promise<Issued>;
  /** A TLS client certificate. */
  issueClient(commonName: string): Promise<Issued>;
}

/** A throwaway certificate authority generated in the test, never a checked-in key. */
export async function createTestCa(name = 'Sealpost Test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3600_000),
    keys,
    signingAlgorithm: rsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });

  const issue = async (commonName: string, usage: string, san?: x509.JsonGeneralNames): Promise<Issued> => {
    const leafKeys = (await webcrypto.subtle.generateKey(rsa, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${commonName}`,
      issuer: ca.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 24 * 3600_000),
      publicKey: leafKeys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: rsa,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        ...(san ? [new x509.SubjectAlternativeNameExtension(san)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: await keyPem(leafKeys.privateKey) };
  };

  return {
    certPem: ca.toString('pem'),
    keyPem: await keyPem(keys.privateKey),
    issueServer: (cn = 'localhost', names?: string[]) =>
      issue(
        cn,
        '1.3.6.1.5.5.7.3.1',
        names
          ? names.map((value) => ({ type: 'dns', value }))
          : [
              { type: 'dns', value: 'localhost' },
              { type: 'ip', value: '127.0.0.1' },
            ],
      ),
    issueClient: (cn) => issue(cn, '1.3.6.1.5.5.7.3.2'),
  };
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1');

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
}
