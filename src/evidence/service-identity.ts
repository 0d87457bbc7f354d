import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceIdentity } from '../core/evidence-identity.ts';
import type { Logger } from '../logger.ts';
import { derOf, parseCertificates } from '../pki/certificate.ts';
import { keyMatchesCertificate, parsePrivateKey } from '../pki/private-key.ts';
import { x509 } from '../pki/x509.ts';

const DEV_DIRECTORY = 'evidence-dev';
const DAY = 24 * 3600_000;
const ec = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * The service's evidence identity: EVIDENCE_CERT_FILE (PEM, the certificate
 * first, then its chain) with EVIDENCE_KEY_FILE, or, for development, a CA and
 * an evidence certificate generated once under DATA_DIR/evidence-dev/ and
 * announced loudly (its ca.pem is the anchor to verify against).
 */
export async function loadServiceEvidenceIdentity(
  options: { certFile?: string | undefined; keyFile?: string | undefined; dataDir: string },
  log: Logger,
): Promise<EvidenceIdentity> {
  if (options.certFile && options.keyFile) return readIdentity(options.certFile, options.keyFile, 'service');
  const directory = join(options.dataDir, DEV_DIRECTORY);
  if (!existsSync(join(directory, 'evidence.key'))) await generateDevelopmentIdentity(options.dataDir);
  log.warn(
    { anchor: join(directory, 'ca.pem') },
    'EVIDENCE_CERT_FILE/EVIDENCE_KEY_FILE are not set: evidence is signed with a development identity generated beside the data. ' +
      'Proofs signed with it prove nothing to anyone else; configure a real evidence certificate in any real deployment.',
  );
  return readIdentity(join(directory, 'evidence.pem'), join(directory, 'evidence.key'), 'development');
}

function readIdentity(certFile: string, keyFile: string, source: EvidenceIdentity['source']): EvidenceIdentity {
  const [leaf, ...chain] = parseCertificates(readFileSync(certFile));
  if (!leaf) throw new Error(`${certFile} holds no certificate`);
  const keyBytes = readFileSync(keyFile);
  const privateKey = parsePrivateKey(keyBytes.includes('-----BEGIN') ? keyBytes.toString('utf8') : keyBytes);
  if (!keyMatchesCertificate(privateKey, leaf)) throw new Error(`the key in ${keyFile} does not belong to the certificate in ${certFile}`);
  return { source, certificate: derOf(leaf), chain: chain.map(derOf), privateKey };
}

/** Written to a fresh directory, then renamed into place: concurrent processes end up using one identity. */
async function generateDevelopmentIdentity(dataDir: string): Promise<void> {
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const now = Date.now();
  const caKeys = (await crypto.subtle.generateKey(ec, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Sealpost Development Evidence CA, O=Sealpost development (not for production)',
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 20 * 365 * DAY),
    keys: caKeys,
    signingAlgorithm: ec,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const keys = (await crypto.subtle.generateKey(ec, true, ['sign', 'verify'])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=Sealpost Development Evidence, O=Sealpost development (not for production)',
    issuer: ca.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 10 * 365 * DAY),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ec,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const staging = join(dataDir, `${DEV_DIRECTORY}.${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  writeFileSync(join(staging, 'ca.pem'), ca.toString('pem') + '\n');
  writeFileSync(join(staging, 'evidence.pem'), leaf.toString('pem') + '\n');
  writeFileSync(join(staging, 'evidence.key'), toPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  try {
    renameSync(staging, join(dataDir, DEV_DIRECTORY));
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process was first: use its identity
  }
}

const serial = () => '01' + randomBytes(15).toString('hex');

function toPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
