import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { webcrypto } from 'node:crypto';
import { x509 } from '../../src/pki/x509.ts';

const run = promisify(execFile);
const DAY = 24 * 3600_000;
const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export type KeyKind = 'rsa' | 'ec';

export interface Issued {
  cert: InstanceType<typeof x509.X509Certificate>;
  keys: CryptoKeyPair;
  certPem: string;
  keyPem: string;
  /** PKCS#8 DER of the private key. */
  keyDer: Buffer;
}

export interface UserCertOptions {
  kind?: KeyKind;
  /** rfc822Name entries; a bare domain entry becomes a dNSName (domain certificate). */
  emails?: string[];
  domains?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** KeyUsageFlags; default digitalSignature + keyEncipherment (RSA) or keyAgreement (EC). */
  keyUsage?: number;
  /** EKU OIDs; default [emailProtection]; null for no EKU extension. */
  eku?: string[] | null;
  /** authorityInfoAccess OCSP responder URLs. */
  ocspUrls?: string[];
  /** CRL distribution point URLs. */
  crlUrls?: string[];
}

export interface SmimeCa {
  root: Issued;
  intermediate: Issued;
  issueUser(commonName: string, options?: UserCertOptions): Promise<Issued>;
  /** A CRL signed by the intermediate listing the given serials. */
  crl(options: { revoked?: Array<{ serial: string; at?: Date }>; thisUpdate?: Date; nextUpdate?: Date; signer?: Issued }): Promise<InstanceType<typeof x509.X509Crl>>;
}

export const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** root → intermediate → user certificates, generated in the test; never a checked-in key. */
export async function createSmimeCa(name = 'Sealpost S/MIME Test'): Promise<SmimeCa> {
  const now = Date.now();
  const rootKeys = await generate('rsa');
  const rootCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name} Root`,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: rootKeys,
    signingAlgorithm: rsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const root = await issued(rootCert, rootKeys);
  const interKeys = await generate('rsa');
  const interCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${name} Intermediate`,
    issuer: rootCert.subject,
    notBefore: new Date(now - 365 * DAY),
    notAfter: new Date(now + 1825 * DAY),
    publicKey: interKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: rsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(interKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootCert),
    ],
  });
  const intermediate = await issued(interCert, interKeys);

  return {
    root,
    intermediate,
    async issueUser(commonName, o = {}) {
      const kind = o.kind ?? 'rsa';
      const keys = await generate(kind);
      const usage = o.keyUsage ?? x509.KeyUsageFlags.digitalSignature | (kind === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.keyAgreement);
      const names: x509.JsonGeneralNames = [
        ...(o.emails ?? []).map((value) => ({ type: 'email' as const, value })),
        ...(o.domains ?? []).map((value) => ({ type: 'dns' as const, value })),
      ];
      const eku = o.eku === undefined ? [EMAIL_PROTECTION] : o.eku;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${commonName}`,
        issuer: interCert.subject,
        notBefore: o.notBefore ?? new Date(now - DAY),
        notAfter: o.notAfter ?? new Date(now + 365 * DAY),
        publicKey: keys.publicKey,
        signingKey: interKeys.privateKey,
        signingAlgorithm: rsa,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(usage, true),
          ...(eku ? [new x509.ExtendedKeyUsageExtension(eku)] : []),
          ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
          ...(o.ocspUrls?.length ? [new x509.AuthorityInfoAccessExtension({ ocsp: o.ocspUrls })] : []),
          ...(o.crlUrls?.length ? [new x509.CRLDistributionPointsExtension(o.crlUrls)] : []),
          await x509.AuthorityKeyIdentifierExtension.create(interCert),
        ],
      });
      return issued(cert, keys);
    },
    async crl({ revoked = [], thisUpdate = new Date(now - 3600_000), nextUpdate = new Date(now + 7 * DAY), signer = intermediate }) {
      return x509.X509CrlGenerator.create({
        issuer: signer.cert.subject,
        thisUpdate,
        nextUpdate,
        entries: revoked.map((r) => ({ serialNumber: r.serial, revocationDate: r.at ?? new Date(now - 60_000), reason: x509.X509CrlReason.keyCompromise })),
        signingKey: signer.keys.privateKey,
        signingAlgorithm: rsa,
      });
    },
  };
}

/**
 * A PKCS#12 file written by the real `openssl pkcs12 -export` (modern PBES2/AES
 * by default; `legacy` for 3DES/RC2 as older tools write).
 */
export async function opensslPkcs12(user: Issued, chain: Issued[], password: string, options: { legacy?: boolean } = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-p12-'));
  try {
    await writeFile(join(dir, 'key.pem'), user.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'cert.pem'), user.certPem);
    await writeFile(join(dir, 'chain.pem'), chain.map((c) => c.certPem).join(''));
    await run('openssl', [
      'pkcs12', '-export', ...(options.legacy ? ['-legacy'] : []),
      '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'cert.pem'), ...(chain.length ? ['-certfile', join(dir, 'chain.pem')] : []),
      '-out', join(dir, 'id.p12'), '-passout', 'env:P12_PASSWORD',
    ], { env: { PATH: process.env.PATH ?? '', P12_PASSWORD: password } });
    return await readFile(join(dir, 'id.p12'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What `openssl pkcs12 -info` says about the encryption, to prove which kind a test file is. */
export async function pkcs12Algorithms(file: Buffer, password: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-p12-'));
  try {
    await writeFile(join(dir, 'id.p12'), file);
    const { stderr } = await run('openssl', ['pkcs12', '-info', '-noout', '-legacy', '-in', join(dir, 'id.p12'), '-passin', 'env:P12_PASSWORD'], {
      env: { PATH: process.env.PATH ?? '', P12_PASSWORD: password },
    });
    return stderr;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function generate(kind: KeyKind): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(kind === 'rsa' ? rsa : ec, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function issued(cert: InstanceType<typeof x509.X509Certificate>, keys: CryptoKeyPair): Promise<Issued> {
  const keyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${keyDer.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  return { cert, keys, certPem: cert.toString('pem') + '\n', keyPem, keyDer };
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[0-9a-f]/, '1');
