import { generateKeyPair, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import { and, eq, gt, isNull, ne } from 'drizzle-orm';
import { listSigningIdentities } from '../db/repositories/certificates.ts';
import { insertIdentityEvent } from '../db/repositories/identity-events.ts';
import { signingIdentities, type SigningIdentityRow } from '../db/schema.ts';
import { parseCertificate, parseCertificates, toPem, type Certificate } from '../pki/certificate.ts';
import { keyMatchesCertificate } from '../pki/private-key.ts';
import { x509 } from '../pki/x509.ts';
import type { PkiOptions } from './certificate-rules.ts';
import type { CoreContext } from './context.ts';
import { AppError } from './errors.ts';
import { importIdentity } from './identities.ts';
import type { Principal } from './principal.ts';

/**
 * Key rollover (docs/certificates.md, "Key rollover"): an identity within the
 * rollover window with no newer identity for its scope gets a new key pair of
 * the same algorithm, a PKCS#10 request with the same subject and e-mail
 * addresses, a certificate from the CA hook, and that certificate imported as
 * its successor through importIdentity (validation included). The old identity
 * is left as it is: it signs until it expires and decrypts for ever.
 */

/** What the CA hook is told; it answers with the issued certificate (and chain) as PEM. */
export interface CsrForHook {
  csrPem: string;
  tenantId: string;
  scope: string;
  oldSerial: string;
  oldIdentityId: string;
}

/** Runs the CA hook; rejects with a reason (exit status, timeout, output too large) when it fails. */
export type CaHook = (request: CsrForHook) => Promise<string>;

export type RolloverOutcome =
  | { identityId: string; tenantId: string; scope: string; outcome: 'issued'; successorId: string; serial: string }
  | { identityId: string; tenantId: string; scope: string; outcome: 'failed'; reason: string };

export interface RolloverSettings {
  withinDays: number;
  hook: CaHook;
  /** At most this many identities per run (the rest wait for the next run). */
  maxPerRun?: number;
}

const DAY = 86_400_000;
const MAX_PER_RUN = 100;
const generateKeyPairAsync = promisify(generateKeyPair);
const crypto = webcrypto as unknown as Crypto;

/** Rolls over every identity (any tenant) that is due; one outcome per identity tried. Never throws for one identity's failure. */
export async function rollOverExpiringIdentities(ctx: CoreContext, settings: RolloverSettings, options: PkiOptions = {}): Promise<RolloverOutcome[]> {
  const due = await identitiesDueForRollover(ctx, settings.withinDays, options.now ?? new Date());
  const outcomes: RolloverOutcome[] = [];
  for (const row of due.slice(0, settings.maxPerRun ?? MAX_PER_RUN)) outcomes.push(await rollOverIdentity(ctx, row, settings.hook, options));
  return outcomes;
}

/**
 * Not retired, valid now, expiring within `withinDays`, and no other identity of
 * the same tenant and scope (not retired) that expires later: that one would be
 * its successor already, whoever imported it.
 */
export async function identitiesDueForRollover(ctx: Pick<CoreContext, 'db'>, withinDays: number, now: Date): Promise<SigningIdentityRow[]> {
  const horizon = now.getTime() + withinDays * DAY;
  const candidates = (await listSigningIdentities(ctx.db, undefined, { activeOnly: true })).filter(
    (r) => r.notBefore <= now && r.notAfter >= now && r.notAfter.getTime() <= horizon,
  );
  const due: SigningIdentityRow[] = [];
  for (const row of candidates) {
    const [newer] = await ctx.db
      .select({ id: signingIdentities.id })
      .from(signingIdentities)
      .where(
        and(
          eq(signingIdentities.tenantId, row.tenantId),
          eq(signingIdentities.scope, row.scope),
          ne(signingIdentities.id, row.id),
          isNull(signingIdentities.retiredAt),
          gt(signingIdentities.notAfter, row.notAfter),
        ),
      )
      .limit(1);
    if (!newer) due.push(row);
  }
  return due;
}

/** One identity: key, CSR, hook, import; the outcome is recorded on the identity (identity_events) either way. */
export async function rollOverIdentity(ctx: CoreContext, old: SigningIdentityRow, hook: CaHook, options: PkiOptions = {}): Promise<RolloverOutcome> {
  const who = { identityId: old.id, tenantId: old.tenantId, scope: old.scope };
  try {
    const oldCert = parseCertificate(old.certificate);
    const { pkcs8, keys, signingAlgorithm } = await newKeyPairLike(old.keyAlgorithm);
    const csr = await x509.Pkcs10CertificateRequestGenerator.create(
      { name: oldCert.subjectName, keys, signingAlgorithm, extensions: emailAltNames(oldCert) },
      crypto,
    );
    const issued = await hook({ csrPem: csr.toString('pem'), tenantId: old.tenantId, scope: old.scope, oldSerial: oldCert.serialNumber, oldIdentityId: old.id });
    const { certificate, chain } = certificateFor(issued, pkcs8, old.chainPem);
    const principal: Principal = { tenantId: old.tenantId, keyId: 'rollover', role: 'admin', senderDomains: [] };
    const successor = await importIdentity(ctx, principal, { certificate, privateKey: pkcs8, chain, scope: old.scope, forEvidence: old.forEvidence }, options);
    await insertIdentityEvent(ctx.db, { tenantId: old.tenantId, identityId: old.id, type: 'rollover_issued', successorId: successor.id });
    return { ...who, outcome: 'issued', successorId: successor.id, serial: successor.serial };
  } catch (error) {
    const reason = reasonOf(error);
    await insertIdentityEvent(ctx.db, { tenantId: old.tenantId, identityId: old.id, type: 'rollover_failed', reason });
    return { ...who, outcome: 'failed', reason };
  }
}

/** A key pair like the old one: RSA of the same size, or P-256. PKCS#8 DER for storage, CryptoKeys to sign the CSR. */
async function newKeyPairLike(keyAlgorithm: string): Promise<{ pkcs8: Buffer; keys: CryptoKeyPair; signingAlgorithm: Algorithm | EcdsaParams }> {
  const rsa = /^rsa-(2048|3072|4096)$/.exec(keyAlgorithm);
  let pkcs8: Buffer;
  let spki: Buffer;
  let algorithm: RsaHashedImportParams | EcKeyImportParams;
  let signingAlgorithm: Algorithm | EcdsaParams;
  if (rsa) {
    ({ privateKey: pkcs8, publicKey: spki } = await generateKeyPairAsync('rsa', {
      modulusLength: Number(rsa[1]),
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    }));
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    signingAlgorithm = algorithm;
  } else if (keyAlgorithm === 'ec-prime256v1') {
    ({ privateKey: pkcs8, publicKey: spki } = await generateKeyPairAsync('ec', {
      namedCurve: 'P-256',
      publicKeyEncoding: { type: 'spki', format: 'der' },
      privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    }));
    algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
    signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams;
  } else {
    throw new RolloverError(`cannot roll over a ${keyAlgorithm} key automatically (RSA 2048/3072/4096 and P-256 only): import the successor`);
  }
  const keys = {
    privateKey: await crypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), algorithm, false, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', new Uint8Array(spki), algorithm, true, ['verify']),
  };
  return { pkcs8, keys, signingAlgorithm };
}

/** The old certificate's subjectAltName, kept whole (e-mail addresses, and a domain certificate's dNSName). */
function emailAltNames(cert: Certificate): x509.Extension[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? [new x509.SubjectAlternativeNameExtension(san.names.toJSON(), false)] : [];
}

/** The hook's PEM: the certificate whose key is ours first, the rest its chain (the old chain when the hook sends none). */
function certificateFor(output: string, pkcs8: Buffer, oldChainPem: string | null): { certificate: string; chain: string | undefined } {
  let certs: Certificate[];
  try {
    certs = parseCertificates(output);
  } catch (error) {
    throw new RolloverError(`the CA hook's output is not a PEM certificate: ${(error as Error).message}`);
  }
  const mine = certs.find((c) => keyMatchesCertificate(pkcs8, c));
  if (!mine) throw new RolloverError(`the CA hook returned ${certs.length === 1 ? 'a certificate' : `${certs.length} certificates`} for another key, none for the new one`);
  const rest = certs.filter((c) => c !== mine);
  return { certificate: toPem([mine]), chain: rest.length > 0 ? toPem(rest) : (oldChainPem ?? undefined) };
}

/** Thrown for a rollover step that failed for a reason worth recording as is. */
export class RolloverError extends Error {
  override name = 'RolloverError';
}

function reasonOf(error: unknown): string {
  const text = error instanceof AppError ? `the issued certificate was refused (${error.code}): ${error.message}` : error instanceof Error ? error.message : String(error);
  return text.slice(0, 1000);
}
