import type { Db } from '../db/client.ts';
import {
  deleteRecipientCertificate,
  deleteTrustAnchor,
  findRecipientCertificate,
  insertRecipientCertificate,
  insertTrustAnchor,
  listRecipientCertificates,
  listTrustAnchors,
} from '../db/repositories/certificates.ts';
import type { RecipientCertificateRow, TrustAnchorRow } from '../db/schema.ts';
import { derOf, parseCertificate, parseCertificates, summarise, toPem, type Certificate } from '../pki/certificate.ts';
import { keyTransports, type CertificateSource, type KeyTransport } from './certificate-source.ts';
import {
  anchorsFor,
  certificateColumns,
  certificateFacts,
  type CertificateFacts,
  isDuplicate,
  normaliseScope,
  readCertificate,
  readCertificates,
  requireValid,
  scopeFor,
  toValidationView,
  validateFor,
  validateStored,
  type PkiOptions,
  type ValidationView,
} from './certificate-rules.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { readSetting } from './settings-cache.ts';
import { isUuid } from './ids.ts';
import { authorize, type Principal } from './principal.ts';

export interface CertificateView extends CertificateFacts {
  id: string;
  scope: string;
  source: CertificateSource;
  keyTransport: KeyTransport;
  /** Validation for encryption to `scope`, now. */
  validation: ValidationView;
}

export interface RecipientCertificateInput {
  /** PEM, base64 DER, or DER bytes; extra PEM blocks after the first are taken as its chain. */
  certificate: string | Uint8Array;
  chain?: string | undefined;
  scope?: string | undefined;
  keyTransport?: string | undefined;
}

/** Admin use case: a recipient's certificate, validated for encryption before it is stored. */
export async function importRecipientCertificate(
  ctx: CoreContext,
  principal: Principal,
  input: RecipientCertificateInput,
  options: PkiOptions = {},
): Promise<CertificateView> {
  authorize(principal, 'tenant:admin');
  const [cert, ...bundled] = readCertificates(input.certificate, 'certificate');
  if (!cert) throw new AppError('missing_field', '"certificate" is required', { field: 'certificate' });
  const chain = [...bundled, ...readCertificates(input.chain, 'chain')];
  const scope = scopeFor(cert, input.scope);
  const keyTransport = input.keyTransport ?? 'rsaes-pkcs1-v1_5';
  if (!keyTransports.includes(keyTransport as KeyTransport)) {
    throw new AppError('invalid_field', `keyTransport must be one of ${keyTransports.join(', ')}`, { field: 'keyTransport' });
  }
  const validation = await validateFor(ctx, principal.tenantId, cert, { purpose: 'encrypt', address: scope, chain }, options);
  requireValid(validation, `the certificate for ${scope}`);
  const columns = certificateColumns(cert);
  try {
    const row = await insertRecipientCertificate(ctx.db, {
      tenantId: principal.tenantId,
      scope,
      ...columns,
      chainPem: toPem(chain),
      source: 'import',
      keyTransport: keyTransport as KeyTransport,
    });
    return toCertificateView(row, toValidationView(validation));
  } catch (error) {
    if (isDuplicate(error)) throw new AppError('certificate_exists', 'this recipient certificate is already stored', { fingerprint: columns.fingerprint }, { cause: error });
    throw error;
  }
}

export async function listRecipientCertificatesFor(
  ctx: CoreContext,
  principal: Principal,
  query: { address?: string | undefined },
  options: PkiOptions = {},
): Promise<CertificateView[]> {
  authorize(principal, 'tenant:admin');
  const scopes = query.address === undefined ? undefined : scopesOf(normaliseScope(query.address, 'address'));
  const rows = await listRecipientCertificates(ctx.db, principal.tenantId, scopes);
  const anchors = await anchorsFor(ctx, principal.tenantId);
  return Promise.all(rows.map(async (row) => toCertificateView(row, toValidationView(await validateStored(ctx, row, 'encrypt', options, anchors)))));
}

export async function getRecipientCertificate(ctx: CoreContext, principal: Principal, id: string, options: PkiOptions = {}): Promise<CertificateView> {
  authorize(principal, 'tenant:admin');
  const row = await requireRecipientCertificate(ctx.db, principal.tenantId, id);
  return toCertificateView(row, toValidationView(await validateStored(ctx, row, 'encrypt', options)));
}

export async function removeRecipientCertificate(ctx: CoreContext, principal: Principal, id: string): Promise<void> {
  authorize(principal, 'tenant:admin');
  const deleted = isUuid(id) && (await deleteRecipientCertificate(ctx.db, principal.tenantId, id.toLowerCase()));
  if (!deleted) throw new AppError('not_found', `certificate ${id} does not exist`, { id });
}

/**
 * The certificate to encrypt to for `address`: one for the exact address first,
 * then one for its domain, newest first, valid for encryption now. None: undefined.
 */
export async function findEncryptionCertificate(
  ctx: Pick<CoreContext, 'db' | 'crls' | 'revocation' | 'settings'>,
  tenantId: string,
  address: string,
  options: PkiOptions = {},
): Promise<{ id: string; certificate: Certificate; keyTransport: KeyTransport } | undefined> {
  const wanted = address.toLowerCase();
  const rows = await readSetting(ctx, tenantId, `recipient-certificates:${wanted}`, () => listRecipientCertificates(ctx.db, tenantId, scopesOf(wanted)));
  const anchors = await anchorsFor(ctx, tenantId);
  for (const scope of scopesOf(wanted)) {
    for (const row of rows.filter((r) => r.scope === scope)) {
      const certificate = parseCertificate(row.certificate);
      const chain = row.chainPem ? parseCertificates(row.chainPem) : [];
      const result = await validateFor(ctx, tenantId, certificate, { purpose: 'encrypt', address: wanted, chain }, options, anchors);
      if (result.ok) return { id: row.id, certificate, keyTransport: row.keyTransport };
    }
  }
  return undefined;
}

/** An address's own scope, then its domain's. */
export const scopesOf = (scope: string): string[] => (scope.includes('@') ? [scope, scope.slice(scope.lastIndexOf('@') + 1)] : [scope]);


async function requireRecipientCertificate(db: Db, tenantId: string, id: string): Promise<RecipientCertificateRow> {
  const row = isUuid(id) ? await findRecipientCertificate(db, tenantId, id.toLowerCase()) : undefined;
  if (!row) throw new AppError('not_found', `certificate ${id} does not exist`, { id });
  return row;
}

function toCertificateView(row: RecipientCertificateRow, validation: ValidationView): CertificateView {
  return {
    id: row.id,
    scope: row.scope,
    source: row.source,
    keyTransport: row.keyTransport,
    ...certificateFacts(row),
    validation,
  };
}

export interface TrustAnchorView {
  id: string;
  /** True for an anchor every tenant trusts (imported by an operator). */
  global: boolean;
  subject: string;
  fingerprint: string;
  notAfter: string;
  createdAt: string;
}

/** Admin use case (tenant anchor), or operator use case with `principal` null (global anchor, CLI only). */
export async function importTrustAnchor(ctx: CoreContext, principal: Principal | null, input: { certificate: string | Uint8Array }): Promise<TrustAnchorView> {
  if (principal) authorize(principal, 'tenant:admin');
  const cert = readCertificate(input.certificate, 'certificate');
  const s = summarise(cert);
  try {
    const row = await insertTrustAnchor(ctx.db, {
      tenantId: principal?.tenantId ?? null,
      certificate: derOf(cert),
      fingerprint: s.fingerprint,
      subject: s.subject,
      notAfter: s.notAfter,
    });
    return toAnchorView(row);
  } catch (error) {
    if (isDuplicate(error)) throw new AppError('certificate_exists', 'this trust anchor is already stored', { fingerprint: s.fingerprint }, { cause: error });
    throw error;
  }
}

export async function listTrustAnchorsFor(ctx: CoreContext, principal: Principal): Promise<TrustAnchorView[]> {
  authorize(principal, 'tenant:admin');
  return (await listTrustAnchors(ctx.db, principal.tenantId)).map(toAnchorView);
}

export async function removeTrustAnchor(ctx: CoreContext, principal: Principal, id: string): Promise<void> {
  authorize(principal, 'tenant:admin');
  const deleted = isUuid(id) && (await deleteTrustAnchor(ctx.db, principal.tenantId, id.toLowerCase()));
  if (!deleted) throw new AppError('not_found', `trust anchor ${id} does not exist for this tenant`, { id });
}

const toAnchorView = (row: TrustAnchorRow): TrustAnchorView => ({
  id: row.id,
  global: row.tenantId === null,
  subject: row.subject,
  fingerprint: row.fingerprint,
  notAfter: row.notAfter.toISOString(),
  createdAt: row.createdAt.toISOString(),
});
