import { createPublicKey } from 'node:crypto';
import { summarise, type Certificate } from './certificate.ts';
import type { Crl } from './crl.ts';
import { revocationProblem, type RevocationNetwork } from './revocation.ts';
import { x509 } from './x509.ts';

export type Purpose = 'sign' | 'encrypt';

/** Which rule refused a certificate; `reason` says it in words. */
export type ValidationCheck = 'validity' | 'key_usage' | 'extended_key_usage' | 'address' | 'chain' | 'revocation';

export type ValidationResult =
  | { ok: true; path: Certificate[] }
  | {
      ok: false;
      check: ValidationCheck;
      reason: string;
      /** The certificate may be fine, we only cannot tell (stale CRL, unreachable CRL URL or OCSP responder, bad responder data). */
      soft?: true;
    };

export interface ValidationOptions {
  purpose: Purpose;
  /** `local@domain`, or a bare domain for a domain-scoped certificate. */
  address: string;
  at: Date;
  anchors: readonly Certificate[];
  /** Intermediate certificates that may complete the path (e.g. from the PKCS#12 file or the signed message). */
  chain?: readonly Certificate[];
  crls?: readonly Crl[];
  /** CRLs by URL and OCSP (src/pki/revocation.ts); absent: only `crls` are consulted. */
  revocation?: RevocationNetwork;
}

const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const MAX_PATH = 8;

/**
 * RFC 5280 path building and RFC 8550 S/MIME checks for one use of a certificate.
 * The first failing rule decides; every refusal carries a sentence a person can act on.
 */
export async function validateCertificate(cert: Certificate, options: ValidationOptions): Promise<ValidationResult> {
  const { at } = options;
  const fail = (check: ValidationCheck, reason: string, soft?: true): ValidationResult => ({ ok: false, check, reason, ...(soft && { soft }) });

  const timeProblem = outsideValidity(cert, at, 'the certificate');
  if (timeProblem) return fail('validity', timeProblem);

  const usageProblem = keyUsageProblem(cert, options.purpose);
  if (usageProblem) return fail('key_usage', usageProblem);

  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku) {
    const usages = eku.usages.map(String);
    if (!usages.includes(EMAIL_PROTECTION) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
      return fail('extended_key_usage', `the extended key usage (${usages.join(', ')}) does not include emailProtection (${EMAIL_PROTECTION})`);
    }
  }

  const addressProblem = addressMismatch(cert, options.address);
  if (addressProblem) return fail('address', addressProblem);

  const built = await buildPath(cert, options.chain ?? [], options.anchors, at);
  if (!built.ok) return fail('chain', built.reason);

  const revoked = await revocationProblem(built.path, options.crls ?? [], at, options.revocation, signedBy);
  if (revoked) return fail('revocation', revoked.reason, revoked.soft);

  return { ok: true, path: built.path };
}

function outsideValidity(cert: Certificate, at: Date, what: string): string | undefined {
  if (at < cert.notBefore) return `${what} is not valid yet: valid from ${cert.notBefore.toISOString()} (${describe(cert)})`;
  if (at > cert.notAfter) return `${what} expired on ${cert.notAfter.toISOString()} (${describe(cert)})`;
  return undefined;
}

const keyTypes = new WeakMap<Certificate, string | undefined>();
function keyTypeOf(cert: Certificate): string | undefined {
  if (!keyTypes.has(cert)) keyTypes.set(cert, createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' }).asymmetricKeyType);
  return keyTypes.get(cert);
}

function keyUsageProblem(cert: Certificate, purpose: Purpose): string | undefined {
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  const type = purpose === 'encrypt' ? keyTypeOf(cert) : undefined;
  // An id-RSASSA-PSS key is for signatures only (RFC 4055 1.2): nothing can be encrypted to it, whatever keyUsage says.
  if (type === 'rsa-pss') return 'the certificate carries an RSASSA-PSS key (id-RSASSA-PSS), which can only sign, not receive encrypted mail';
  // Absent keyUsage means no restriction (RFC 5280, 4.2.1.3).
  if (!usage) return undefined;
  if (purpose === 'sign') {
    return usage.usages & x509.KeyUsageFlags.digitalSignature ? undefined : 'the key usage does not allow digitalSignature, needed to sign';
  }
  if (type === 'ec' || type === 'x25519' || type === 'x448') {
    return usage.usages & x509.KeyUsageFlags.keyAgreement ? undefined : 'the key usage does not allow keyAgreement, needed to encrypt to an EC key';
  }
  return usage.usages & x509.KeyUsageFlags.keyEncipherment ? undefined : 'the key usage does not allow keyEncipherment, needed to encrypt to an RSA key';
}

/**
 * `local@domain` matches an rfc822Name equal to it (case-insensitively), or a
 * domain certificate for its domain; a bare domain matches only a domain
 * certificate (dNSName, or an rfc822Name that is just the domain).
 */
function addressMismatch(cert: Certificate, address: string): string | undefined {
  const wanted = address.toLowerCase();
  const { emails, domains } = summarise(cert);
  const domain = wanted.includes('@') ? wanted.slice(wanted.lastIndexOf('@') + 1) : wanted;
  const domainNames = new Set([...domains, ...emails.filter((e) => !e.includes('@')), ...emails.filter((e) => e.startsWith('@')).map((e) => e.slice(1))]);
  if ((wanted.includes('@') && emails.includes(wanted)) || domainNames.has(domain)) return undefined;
  const named = [...emails, ...domains];
  return named.length === 0
    ? `the certificate names no e-mail address or domain (subjectAltName), so it cannot be used for ${address}`
    : `the certificate is for ${named.join(', ')}, not ${address}`;
}

type PathResult = { ok: true; path: Certificate[] } | { ok: false; reason: string };

/** From the certificate up to a trust anchor, each link's signature checked by the next one's key. */
async function buildPath(leaf: Certificate, chain: readonly Certificate[], anchors: readonly Certificate[], at: Date): Promise<PathResult> {
  if (anchors.length === 0) return { ok: false, reason: 'no trust anchor is configured: import the issuing root certificate as a trust anchor first' };
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_PATH; depth++) {
    if (anchors.some((a) => a.rawData.byteLength === current.rawData.byteLength && Buffer.from(a.rawData).equals(Buffer.from(current.rawData)))) {
      return { ok: true, path };
    }
    const anchor = await findIssuer(current, anchors);
    if (anchor.found) {
      const expired = outsideValidity(anchor.found, at, 'the trust anchor');
      return expired ? { ok: false, reason: expired } : { ok: true, path: [...path, anchor.found] };
    }
    const next = await findIssuer(current, chain.filter((c) => !path.includes(c)));
    if (!next.found) {
      const badSignature = anchor.nameOnly ?? next.nameOnly;
      return {
        ok: false,
        reason: badSignature
          ? `the signature on "${current.subject}" does not verify with the key of "${badSignature.subject}"`
          : `no chain to a trusted anchor: the issuer "${current.issuer}" of "${current.subject}" is neither a trust anchor nor in the supplied chain`,
      };
    }
    const issuer = next.found;
    const basic = issuer.getExtension(x509.BasicConstraintsExtension);
    if (!basic?.ca) return { ok: false, reason: `"${issuer.subject}" is not a CA certificate (basicConstraints) and cannot issue "${current.subject}"` };
    const usage = issuer.getExtension(x509.KeyUsagesExtension);
    if (usage && !(usage.usages & x509.KeyUsageFlags.keyCertSign)) return { ok: false, reason: `the key usage of "${issuer.subject}" does not allow keyCertSign` };
    const expired = outsideValidity(issuer, at, 'an intermediate CA certificate');
    if (expired) return { ok: false, reason: expired };
    path.push(issuer);
    current = issuer;
  }
  return { ok: false, reason: `no chain to a trusted anchor within ${MAX_PATH} certificates` };
}

/** A candidate whose subject names the issuer and whose key verifies the signature; `nameOnly` when only the name matched. */
async function findIssuer(child: Certificate, candidates: readonly Certificate[]): Promise<{ found?: Certificate; nameOnly?: Certificate }> {
  let nameOnly: Certificate | undefined;
  for (const candidate of candidates) {
    if (candidate.subject !== child.issuer) continue;
    if (await signedBy(child, candidate)) return { found: candidate };
    nameOnly ??= candidate;
  }
  return nameOnly ? { nameOnly } : {};
}

/** Signature checks already done, per parsed object (src/pki/certificate.ts shares them): a signature never changes. */
const signatureChecks = new WeakMap<object, WeakMap<Certificate, boolean>>();

async function signedBy(child: Certificate | Crl, issuer: Certificate): Promise<boolean> {
  let byIssuer = signatureChecks.get(child);
  const known = byIssuer?.get(issuer);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = await child.verify({ publicKey: issuer.publicKey, signatureOnly: true } as never);
  } catch {
    ok = false;
  }
  if (!byIssuer) signatureChecks.set(child, (byIssuer = new WeakMap()));
  byIssuer.set(issuer, ok);
  return ok;
}

const describe = (cert: Certificate) => `"${cert.subject}", serial ${cert.serialNumber.toLowerCase()}`;
