import { listTrustAnchors } from '../db/repositories/certificates.ts';
import type { DbOrTx } from '../db/client.ts';
import { CertificateFormatError, derOf, parseCertificate, parseCertificates, summarise, type Certificate } from '../pki/certificate.ts';
import type { Crl } from '../pki/crl.ts';
import { PrivateKeyFormatError } from '../pki/private-key.ts';
import { validateCertificate, type Purpose, type ValidationResult } from '../pki/validate.ts';
import { normaliseAddress } from './address.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { readSetting } from './settings-cache.ts';

/**
 * Per-call overrides: CRLs (otherwise the context's, from CRL_FILES) and `now`,
 * so tests and batch jobs can fix the time of use.
 */
export interface PkiOptions {
  crls?: readonly Crl[];
  now?: Date;
}

/** A scope is a mailbox address or a bare domain, stored lower-cased (addresses match case-insensitively). */
export function normaliseScope(value: string, field = 'scope'): string {
  const text = value.trim();
  if (text.includes('@')) return normaliseAddress(text, field).toLowerCase();
  return normaliseAddress(`postmaster@${text}`, field).split('@')[1]!;
}

/** The scope given, or the certificate's only rfc822Name, or its only domain name. */
export function scopeFor(cert: Certificate, given: string | undefined): string {
  if (given !== undefined) return normaliseScope(given);
  const { emails, domains } = summarise(cert);
  const names = [...emails, ...domains];
  if (names.length !== 1) {
    throw new AppError('missing_field', `"scope" is required: the certificate names ${names.length === 0 ? 'no address or domain' : names.join(', ')}`, { field: 'scope' });
  }
  return normaliseScope(names[0]!);
}

/** Parses at the boundary; unreadable input is invalid_certificate naming the field. */
export function readCertificate(input: string | Uint8Array, field: string): Certificate {
  return mapFormat(() => parseCertificate(input), field);
}

export function readCertificates(input: string | Uint8Array | undefined, field: string): Certificate[] {
  if (input === undefined || (typeof input === 'string' && input.trim() === '')) return [];
  return mapFormat(() => parseCertificates(input), field);
}

export function mapFormat<T>(read: () => T, field: string): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CertificateFormatError || error instanceof PrivateKeyFormatError) {
      throw new AppError('invalid_certificate', `${field}: ${error.message}`, { field }, { cause: error });
    }
    throw error;
  }
}

/** The tenant's trust anchors and the global ones, parsed. */
export async function anchorsFor(ctx: { db: DbOrTx } & Pick<CoreContext, 'settings'>, tenantId: string): Promise<Certificate[]> {
  return readSetting(ctx, tenantId, 'trust-anchors', async () => (await listTrustAnchors(ctx.db, tenantId)).map((row) => parseCertificate(row.certificate)));
}

/** What validation reads: the database (trust anchors, through the settings cache where there is one), the configured CRLs and the revocation network (CRL URLs, OCSP). */
export type PkiContext = Pick<CoreContext, 'db' | 'crls' | 'revocation' | 'settings'>;

export async function validateFor(
  pki: PkiContext,
  tenantId: string,
  cert: Certificate,
  use: { purpose: Purpose; address: string; chain?: Certificate[] },
  options: PkiOptions,
  anchors?: Certificate[],
): Promise<ValidationResult> {
  const crls = options.crls ?? (await pki.crls?.());
  return validateCertificate(cert, {
    ...use,
    at: options.now ?? new Date(),
    anchors: anchors ?? (await anchorsFor(pki, tenantId)),
    ...(crls && { crls }),
    ...(pki.revocation && { revocation: pki.revocation }),
  });
}

/** The columns every stored identity and recipient certificate keeps about its certificate. */
export function certificateColumns(cert: Certificate) {
  const { fingerprint, subject, issuer, serial, notBefore, notAfter } = summarise(cert);
  return { certificate: derOf(cert), fingerprint, subject, issuer, serial, notBefore, notAfter };
}

/** What the view of any stored certificate shows about the certificate itself. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
}

export function certificateFacts(row: {
  subject: string;
  issuer: string;
  serial: string;
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  createdAt: Date;
}): CertificateFacts {
  return {
    subject: row.subject,
    issuer: row.issuer,
    serial: row.serial,
    fingerprint: row.fingerprint,
    notBefore: row.notBefore.toISOString(),
    notAfter: row.notAfter.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}

/** A stored certificate (identity or recipient), validated now for its purpose with its stored chain. */
export function validateStored(
  pki: PkiContext,
  row: { tenantId: string; certificate: Buffer; chainPem: string | null; scope: string },
  purpose: Purpose,
  options: PkiOptions,
  anchors?: Certificate[],
): Promise<ValidationResult> {
  const chain = row.chainPem ? parseCertificates(row.chainPem) : [];
  return validateFor(pki, row.tenantId, parseCertificate(row.certificate), { purpose, address: row.scope, chain }, options, anchors);
}

/** Refuses with certificate_rejected, the rule and the reason in details. */
export function requireValid(result: ValidationResult, what: string): void {
  if (!result.ok) {
    throw new AppError('certificate_rejected', `${what} was refused: ${result.reason}`, {
      check: result.check,
      reason: result.reason,
      ...(result.soft && { soft: true }),
    });
  }
}

export type ValidationView = { ok: true } | { ok: false; check: string; reason: string; soft?: boolean };

export const toValidationView = (result: ValidationResult): ValidationView =>
  result.ok ? { ok: true } : { ok: false, check: result.check, reason: result.reason, ...(result.soft && { soft: true }) };

/** Postgres unique_violation on a fingerprint index: the same certificate twice. */
export function isDuplicate(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code === '23505' || e?.cause?.code === '23505';
}
