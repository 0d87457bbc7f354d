import { createHash } from 'node:crypto';
import { x509 } from './x509.ts';

export type Certificate = InstanceType<typeof x509.X509Certificate>;

/** Thrown for bytes or text that are not a certificate; the core maps it to invalid_certificate. */
export class CertificateFormatError extends Error {
  override name = 'CertificateFormatError';
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * Every certificate in the input: one or more PEM blocks, or one DER certificate
 * (as bytes, or base64 text). Parsed once here; inside, certificates are objects.
 */
export function parseCertificates(input: string | Uint8Array): Certificate[] {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? Buffer.from(input).toString('latin1') : undefined;
  if (text === undefined) return [parseDer(Buffer.from(input as Uint8Array))];
  if (text.includes('-----BEGIN')) {
    const blocks = [...text.matchAll(PEM_BLOCK)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
    if (blocks.length === 0) throw new CertificateFormatError('the PEM text holds no "BEGIN CERTIFICATE" block');
    return blocks.map(parseDer);
  }
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new CertificateFormatError('expected a PEM certificate, or DER as base64');
  return [parseDer(Buffer.from(compact, 'base64'))];
}

/** Exactly one certificate. */
export function parseCertificate(input: string | Uint8Array): Certificate {
  const all = parseCertificates(input);
  if (all.length !== 1) throw new CertificateFormatError(`expected one certificate, found ${all.length}`);
  return all[0]!;
}

/**
 * Parsed certificates by their DER bytes. The worker meets the same few
 * certificates (a tenant's identity, its chain, the anchors, recipients' certificates)
 * for every copy it sends; parsing them again each time was a tenth of a
 * worker's CPU (bench:drain profile). Certificates are immutable, so sharing the
 * object is safe, and it lets validation remember signature checks per object.
 */
const parsed = new Map<string, Certificate>();
const PARSED_MAX = 2000;

function parseDer(der: Buffer): Certificate {
  const key = der.toString('base64');
  const known = parsed.get(key);
  if (known) return known;
  let cert: Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der));
  } catch (error) {
    throw new CertificateFormatError(`not an X.509 certificate: ${(error as Error).message}`, { cause: error });
  }
  if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, cert);
  return cert;
}

function looksLikePem(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}

export const derOf = (cert: Certificate): Buffer => Buffer.from(cert.rawData);

export const fingerprintOf = (cert: Certificate): string => createHash('sha256').update(derOf(cert)).digest('hex');

export function toPem(certs: readonly Certificate[]): string {
  return certs.map((c) => `${c.toString('pem')}\n`).join('');
}

/** What we store and show about a certificate. */
export interface CertificateSummary {
  fingerprint: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** rfc822Name entries of the subjectAltName, lowercased. */
  emails: string[];
  /** dNSName entries of the subjectAltName, lowercased (domain certificates). */
  domains: string[];
}

export function summarise(cert: Certificate): CertificateSummary {
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  return {
    fingerprint: fingerprintOf(cert),
    subject: cert.subject,
    issuer: cert.issuer,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    emails: names.filter((n) => n.type === 'email').map((n) => n.value.toLowerCase()),
    domains: names.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()),
  };
}
