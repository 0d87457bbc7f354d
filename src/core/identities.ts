import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.ts';
import { findSigningIdentity, insertSigningIdentity, listSigningIdentities, retireSigningIdentity } from '../db/repositories/certificates.ts';
import { listIdentityEvents } from '../db/repositories/identity-events.ts';
import type { DbOrTx } from '../db/client.ts';
import type { IdentityEventRow, SigningIdentityRow } from '../db/schema.ts';
import { CertificateFormatError, parseCertificate, parseCertificates, toPem, type Certificate } from '../pki/certificate.ts';
import { Pkcs12Error, readPkcs12, type Pkcs12Contents } from '../pki/pkcs12.ts';
import { keyAlgorithmOf, keyMatchesCertificate, parsePrivateKey } from '../pki/private-key.ts';
import { anchorsFor, certificateColumns, certificateFacts, isDuplicate, mapFormat, readCertificates, requireValid, scopeFor, toValidationView, validateFor, validateStored, type CertificateFacts, type PkiOptions, type ValidationView } from './certificate-rules.ts';
import { scopesOf } from './certificates.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { readSetting } from './settings-cache.ts';
import { isUuid } from './ids.ts';
import { authorize, type Principal } from './principal.ts';

export const ROLLOVER_WARNING_DAYS = 7;
const DAY = 24 * 3600_000;

export type IdentityStatus = 'active' | 'not_yet_valid' | 'expired' | 'retired';

export interface IdentityView extends CertificateFacts {
  id: string;
  scope: string;
  status: IdentityStatus;
  keyAlgorithm: string;
  retiredAt: string | null;
  /** Also signs the tenant's evidence (docs/evidence.md). */
  forEvidence: boolean;
  /** Validation for signing as `scope`, now. */
  validation: ValidationView;
  /** Key rollover (src/core/identity-rollover.ts): the identity this one succeeded, and the one that succeeded it. */
  predecessorId: string | null;
  successorId: string | null;
  rolledOverAt: string | null;
  /** This identity's rollover attempts, newest first (at most 10). */
  rolloverEvents: RolloverEventView[];
}

export interface RolloverEventView {
  type: 'rollover_issued' | 'rollover_failed';
  at: string;
  successorId: string | null;
  reason: string | null;
}

/** A PKCS#12 file and its password, or a PEM certificate (plus chain) and its PEM/DER key. */
export type IdentityInput = (
  | { pkcs12: Uint8Array; password: string; scope?: string | undefined }
  | { certificate: string | Uint8Array; privateKey: string | Uint8Array; chain?: string | undefined; scope?: string | undefined }
) & { forEvidence?: boolean | undefined };

/**
 * Admin use case: a signing identity, validated for signing before it is stored;
 * the private key is sealed with the master key, bound to the identity's id.
 */
export async function importIdentity(ctx: CoreContext, principal: Principal, input: IdentityInput, options: PkiOptions = {}): Promise<IdentityView> {
  authorize(principal, 'tenant:admin');
  const { privateKey, certificate, chain } = 'pkcs12' in input ? await fromPkcs12(input.pkcs12, input.password) : fromPem(input);
  const scope = scopeFor(certificate, input.scope);
  const validation = await validateFor(ctx, principal.tenantId, certificate, { purpose: 'sign', address: scope, chain }, options);
  requireValid(validation, `the certificate for ${scope}`);
  const columns = certificateColumns(certificate);
  const id = randomUUID();
  try {
    const row = await insertSigningIdentity(ctx.db, {
      id,
      tenantId: principal.tenantId,
      scope,
      ...columns,
      chainPem: toPem(chain),
      privateKey: ctx.cipher.seal(privateKey, identityKeyContext(id)),
      keyAlgorithm: keyAlgorithmOf(privateKey),
      forEvidence: input.forEvidence ?? false,
    });
    return toIdentityView(row, toValidationView(validation), options.now ?? new Date(), []);
  } catch (error) {
    if (isDuplicate(error)) throw new AppError('certificate_exists', 'this signing identity is already stored', { fingerprint: columns.fingerprint }, { cause: error });
    throw error;
  }
}

export async function listIdentities(ctx: CoreContext, principal: Principal, options: PkiOptions = {}): Promise<IdentityView[]> {
  authorize(principal, 'tenant:admin');
  const rows = await listSigningIdentities(ctx.db, principal.tenantId);
  const anchors = await anchorsFor(ctx, principal.tenantId);
  const now = options.now ?? new Date();
  const events = await listIdentityEvents(ctx.db, principal.tenantId, rows.map((r) => r.id));
  return Promise.all(rows.map(async (row) => toIdentityView(row, toValidationView(await validateStored(ctx, row, 'sign', options, anchors)), now, events)));
}

export async function getIdentity(ctx: CoreContext, principal: Principal, id: string, options: PkiOptions = {}): Promise<IdentityView> {
  authorize(principal, 'tenant:admin');
  const row = await requireIdentity(ctx.db, principal.tenantId, id);
  return toIdentityView(row, toValidationView(await validateStored(ctx, row, 'sign', options)), options.now ?? new Date(), await eventsOf(ctx.db, row));
}

/** Delete is retire: the key stays, sealed, to decrypt mail sent with it; it is never chosen for signing again. */
export async function retireIdentity(ctx: CoreContext, principal: Principal, id: string, options: PkiOptions = {}): Promise<IdentityView> {
  authorize(principal, 'tenant:admin');
  const existing = await requireIdentity(ctx.db, principal.tenantId, id);
  const now = options.now ?? new Date();
  const row = (await retireSigningIdentity(ctx.db, principal.tenantId, existing.id, now)) ?? existing;
  return toIdentityView(row, toValidationView(await validateStored(ctx, row, 'sign', options)), now, await eventsOf(ctx.db, row));
}

export interface ChosenIdentity {
  id: string;
  scope: string;
  certificate: Certificate;
  chain: Certificate[];
  /** PKCS#8 DER, opened from its sealed form. */
  privateKey: Buffer;
  keyAlgorithm: string;
}

/**
 * The identity that signs for `senderAddress`: one for the exact address first,
 * then one for its domain; not retired, valid for signing at the time of use
 * (chain, validity, usage, revocation); newest first. Expired ones are never chosen.
 */
export async function chooseSigningIdentity(
  ctx: Pick<CoreContext, 'db' | 'cipher' | 'crls' | 'revocation' | 'settings'>,
  tenantId: string,
  senderAddress: string,
  options: PkiOptions = {},
): Promise<ChosenIdentity | undefined> {
  const { db, cipher } = ctx;
  const sender = senderAddress.toLowerCase();
  const scopes = scopesOf(sender);
  const now = options.now ?? new Date();
  const stored = await readSetting(ctx, tenantId, `signing-identities:${sender}`, () => listSigningIdentities(db, tenantId, { scopes, activeOnly: true }));
  const rows = stored.filter((r) => r.notBefore <= now && now <= r.notAfter);
  const anchors = await anchorsFor(ctx, tenantId);
  for (const scope of scopes) {
    for (const row of rows.filter((r) => r.scope === scope)) {
      const certificate = parseCertificate(row.certificate);
      const chain = row.chainPem ? parseCertificates(row.chainPem) : [];
      const result = await validateFor(ctx, tenantId, certificate, { purpose: 'sign', address: sender, chain }, options, anchors);
      if (!result.ok) continue;
      return { id: row.id, scope: row.scope, certificate, chain, privateKey: cipher.open(row.privateKey, identityKeyContext(row.id)), keyAlgorithm: row.keyAlgorithm };
    }
  }
  return undefined;
}

export interface RolloverWarning {
  id: string;
  tenantId: string;
  scope: string;
  fingerprint: string;
  notAfter: Date;
  daysLeft: number;
}

/** Active identities that expire within `withinDays` (default 7): time to import their successor. */
/** Identities that expire within `withinDays` (default 7): one tenant's, or with no tenant every tenant's. */
export async function identitiesNearExpiry(
  db: Db,
  options: { tenantId?: string; now?: Date; withinDays?: number } = {},
): Promise<RolloverWarning[]> {
  const now = options.now ?? new Date();
  const horizon = now.getTime() + (options.withinDays ?? ROLLOVER_WARNING_DAYS) * DAY;
  return (await listSigningIdentities(db, options.tenantId, { activeOnly: true }))
    .filter((r) => r.notAfter >= now && r.notAfter.getTime() <= horizon)
    .map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      scope: r.scope,
      fingerprint: r.fingerprint,
      notAfter: r.notAfter,
      daysLeft: Math.floor((r.notAfter.getTime() - now.getTime()) / DAY),
    }));
}

export const identityKeyContext = (id: string) => `identity-key:${id}`;

async function fromPkcs12(file: Uint8Array, password: string): Promise<Pkcs12Contents> {
  try {
    return await readPkcs12(file, password);
  } catch (error) {
    if (error instanceof Pkcs12Error) throw new AppError(error.problem, error.message, { field: 'pkcs12' }, { cause: error });
    if (error instanceof CertificateFormatError) throw new AppError('invalid_pkcs12', `a certificate in the PKCS#12 file: ${error.message}`, { field: 'pkcs12' }, { cause: error });
    throw error;
  }
}

function fromPem(input: Extract<IdentityInput, { certificate: unknown }>): Pkcs12Contents {
  const [certificate, ...bundled] = readCertificates(input.certificate, 'certificate');
  if (!certificate) throw new AppError('missing_field', '"certificate" is required', { field: 'certificate' });
  const privateKey = mapFormat(() => parsePrivateKey(input.privateKey), 'privateKey');
  if (!keyMatchesCertificate(privateKey, certificate)) {
    throw new AppError('key_mismatch', 'the private key does not belong to the certificate', { field: 'privateKey' });
  }
  return { privateKey, certificate, chain: [...bundled, ...readCertificates(input.chain, 'chain')] };
}


async function requireIdentity(db: Db, tenantId: string, id: string): Promise<SigningIdentityRow> {
  const row = isUuid(id) ? await findSigningIdentity(db, tenantId, id.toLowerCase()) : undefined;
  if (!row) throw new AppError('not_found', `identity ${id} does not exist`, { id });
  return row;
}

function statusOf(row: SigningIdentityRow, now: Date): IdentityStatus {
  if (row.retiredAt) return 'retired';
  if (now < row.notBefore) return 'not_yet_valid';
  if (now > row.notAfter) return 'expired';
  return 'active';
}

const eventsOf = (db: DbOrTx, row: SigningIdentityRow) => listIdentityEvents(db, row.tenantId, [row.id]);

/** `events`: rollover events naming this identity (others are ignored). */
function toIdentityView(row: SigningIdentityRow, validation: ValidationView, now: Date, events: IdentityEventRow[]): IdentityView {
  const own = events.filter((e) => e.identityId === row.id);
  const issued = own.find((e) => e.type === 'rollover_issued');
  return {
    id: row.id,
    scope: row.scope,
    status: statusOf(row, now),
    keyAlgorithm: row.keyAlgorithm,
    ...certificateFacts(row),
    retiredAt: row.retiredAt?.toISOString() ?? null,
    forEvidence: row.forEvidence,
    validation,
    predecessorId: events.find((e) => e.successorId === row.id)?.identityId ?? null,
    successorId: issued?.successorId ?? null,
    rolledOverAt: issued?.createdAt.toISOString() ?? null,
    rolloverEvents: own.slice(0, 10).map((e) => ({
      type: e.type as RolloverEventView['type'],
      at: e.createdAt.toISOString(),
      successorId: e.successorId,
      reason: e.reason,
    })),
  };
}
