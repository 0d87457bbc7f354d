import { X509Certificate, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { SmimeError } from './errors.ts';

/** A certificate as callers hold it: PEM text or DER bytes. */
export type CertificateInput = string | Buffer | Uint8Array;

/** A certificate normalised once at the boundary: DER, the parsed PKI.js structure and node's public key. */
export interface SmimeCertificate {
  der: Buffer;
  certificate: pkijs.Certificate;
  publicKey: KeyObject;
  /** DER SubjectPublicKeyInfo, to match private keys against. */
  spki: Buffer;
  /** DER of IssuerAndSerialNumber (RFC 5652 10.2.4), the identifier we write in SignerInfo and RecipientInfo. */
  issuerAndSerialNumber: Buffer;
}

// Certificates are public and few (a tenant's identities and its recipients'): parsing them once per
// thread, not once per message, matters at payroll volumes. Bounded; oldest entries go first.
const parsed = new Map<string, SmimeCertificate>();
const CACHE_SIZE = 1000;

export function toCertificate(input: CertificateInput | SmimeCertificate): SmimeCertificate {
  if (typeof input === 'object' && 'issuerAndSerialNumber' in input) return input;
  const key = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('base64');
  const cached = parsed.get(key);
  if (cached) return cached;
  const certificate = parse(input);
  if (parsed.size >= CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, certificate);
  return certificate;
}

function parse(input: CertificateInput): SmimeCertificate {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(typeof input === 'string' ? input : Buffer.from(input));
  } catch (cause) {
    throw new SmimeError('smime_malformed', 'the certificate is neither PEM nor DER', { cause });
  }
  const der = x509.raw;
  const certificate = pkijs.Certificate.fromBER(der);
  const issuerAndSerialNumber = Buffer.from(
    new pkijs.IssuerAndSerialNumber({ issuer: certificate.issuer, serialNumber: certificate.serialNumber }).toSchema().toBER(false),
  );
  const publicKey = x509.publicKey;
  return { der, certificate, publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }), issuerAndSerialNumber };
}

/** Whether a CMS IssuerAndSerialNumber names this certificate. */
export function isIssuerAndSerial(certificate: SmimeCertificate, id: pkijs.IssuerAndSerialNumber): boolean {
  return certificate.certificate.issuer.isEqual(id.issuer) && certificate.certificate.serialNumber.isEqual(id.serialNumber);
}
