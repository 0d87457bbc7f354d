import type { Certificate } from './certificate.ts';
import { crlReasonName, type Crl } from './crl.ts';
import type { CrlFetcher } from './crl-fetcher.ts';
import { httpUrl } from './http-fetch.ts';
import type { OcspClient } from './ocsp-client.ts';
import { x509 } from './x509.ts';

export type OcspMode = 'off' | 'on' | 'require';

/**
 * The network sources of revocation status, built once from the configuration
 * (src/runtime.ts). Absent parts are not consulted.
 */
export interface RevocationNetwork {
  crl?: {
    fetcher: CrlFetcher;
    /** CRL_URLS: fetched for every certificate. */
    urls: readonly string[];
    /** CRL_FETCH=on: also each certificate's own http:// CRL distribution points. */
    distributionPoints: boolean;
  };
  ocsp?: {
    mode: Exclude<OcspMode, 'off'>;
    client: OcspClient;
    /** OCSP_URL: asked about the certificate in use instead of its authorityInfoAccess responder (CA certificates keep theirs). */
    url?: URL;
  };
}

export interface RevocationProblem {
  reason: string;
  /** Status unknown rather than revoked: the certificate may be fine. */
  soft?: true;
}

const MAX_URLS_PER_CERTIFICATE = 3;

/**
 * Each certificate of the validated path except the anchor, in turn:
 *
 * 1. OCSP, when enabled and a responder is known (the certificate's
 *    authorityInfoAccess; OCSP_URL instead for the certificate in use): good
 *    settles it, revoked refuses.
 *    With `require`, for the certificate in use (not the CA certificates above
 *    it) anything else (no responder, unreachable, unknown, a response that
 *    fails authentication or is out of date) refuses, softly; CRLs do not
 *    stand in for it.
 * 2. Otherwise CRLs: the configured files, CRL_URLS, and with CRL_FETCH=on the
 *    certificate's distribution points; only CRLs whose signature verifies with
 *    the issuer's key count, the newest decides. Listed refuses; a CRL past
 *    nextUpdate, or a source that could not be fetched when no CRL answers,
 *    or an OCSP failure when no CRL answers, refuses softly (status unknown).
 * 3. No OCSP responder and no CRL for the issuer: not checked (as before).
 */
export async function revocationProblem(
  path: readonly Certificate[],
  crls: readonly Crl[],
  at: Date,
  network: RevocationNetwork | undefined,
  signedBy: (child: Crl, issuer: Certificate) => Promise<boolean>,
): Promise<RevocationProblem | undefined> {
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i]!;
    const issuerPath = path.slice(i + 1);
    const issuer = issuerPath[0]!;

    let ocspUnknown: string | undefined;
    const ocsp = network?.ocsp;
    if (ocsp) {
      // `require` is about the certificate in use; CA certificates above it are checked as with `on`.
      const required = ocsp.mode === 'require' && i === 0;
      const urls = ocsp.url && i === 0 ? [ocsp.url] : ocspUrlsOf(cert);
      if (urls.length === 0) {
        if (required) return { reason: `revocation status of ${describe(cert)} unknown: it names no OCSP responder (authorityInfoAccess) and OCSP_URL is not set`, soft: true };
      } else {
        const answer = await ocsp.client.status(cert, issuerPath, urls[0]!, at);
        if (answer.status === 'revoked' && answer.revokedAt <= at) {
          return { reason: `the certificate ${describe(cert)} was revoked on ${answer.revokedAt.toISOString()}${answer.reason ? ` (${answer.reason})` : ''}, says the OCSP responder ${urls[0]!.href}` };
        }
        if (answer.status !== 'unknown') continue;
        if (required) return { reason: `revocation status of ${describe(cert)} unknown: ${answer.reason}`, soft: true };
        ocspUnknown = answer.reason;
      }
    }

    const candidates = crls.filter((crl) => crl.issuer === issuer.subject);
    let failures: string[] = [];
    if (network?.crl) {
      const urls = [...network.crl.urls, ...(network.crl.distributionPoints ? crlUrlsOf(cert) : [])];
      if (urls.length > 0) {
        const fetched = await network.crl.fetcher.crlsFrom(urls, at);
        candidates.push(...fetched.crls.filter((crl) => crl.issuer === issuer.subject));
        failures = fetched.failures;
      }
    }
    const unknownBecause = [...(ocspUnknown ? [ocspUnknown] : []), ...failures];

    if (candidates.length === 0) {
      if (unknownBecause.length === 0) continue;
      return { reason: `revocation status of ${describe(cert)} unknown: ${unknownBecause.join('; ')}`, soft: true };
    }
    const authentic: Crl[] = [];
    for (const crl of candidates) if (await signedBy(crl, issuer)) authentic.push(crl);
    if (authentic.length === 0) return { reason: `the CRL of "${issuer.subject}" is not signed by that CA's key; revocation cannot be checked`, soft: true };
    const crl = authentic.reduce((newest, c) => (c.thisUpdate > newest.thisUpdate ? c : newest));
    const serial = cert.serialNumber.toLowerCase();
    const entry = crl.entries.find((e) => e.serialNumber.toLowerCase() === serial && e.revocationDate <= at);
    if (entry) {
      const why = crlReasonName(entry.reason);
      return { reason: `the certificate ${describe(cert)} was revoked on ${entry.revocationDate.toISOString()}${why ? ` (${why})` : ''}` };
    }
    if (crl.nextUpdate && crl.nextUpdate < at) {
      const also = unknownBecause.length ? ` (${unknownBecause.join('; ')})` : '';
      return { reason: `the CRL of "${issuer.subject}" is out of date (nextUpdate ${crl.nextUpdate.toISOString()}); revocation status unknown${also}`, soft: true };
    }
  }
  return undefined;
}

/** The certificate's OCSP responders (authorityInfoAccess), http:// only. */
export function ocspUrlsOf(cert: Certificate): URL[] {
  const aia = cert.getExtension(x509.AuthorityInfoAccessExtension);
  return (aia?.ocsp ?? [])
    .filter((name) => name.type === 'url')
    .map((name) => httpUrl(name.value, false))
    .filter((url): url is URL => url !== undefined)
    .slice(0, MAX_URLS_PER_CERTIFICATE);
}

/** The certificate's CRL distribution points (full names), http:// only; ldap: and others are skipped. */
export function crlUrlsOf(cert: Certificate): string[] {
  const cdp = cert.getExtension(x509.CRLDistributionPointsExtension);
  return (cdp?.distributionPoints ?? [])
    .flatMap((point) => point.distributionPoint?.fullName ?? [])
    .map((name) => name.uniformResourceIdentifier)
    .filter((uri): uri is string => uri !== undefined && httpUrl(uri, false) !== undefined)
    .slice(0, MAX_URLS_PER_CERTIFICATE);
}

const describe = (cert: Certificate) => `"${cert.subject}", serial ${cert.serialNumber.toLowerCase()}`;
