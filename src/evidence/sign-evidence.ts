import { createHash } from 'node:crypto';
import type { EvidenceIdentity } from '../core/evidence-identity.ts';
import { createSignedData } from '../smime/signed-data.ts';
import { toSignerMaterial } from '../smime/signer.ts';

/**
 * CMS SignedData (RFC 5652) with the evidence XML encapsulated: SHA-256, signed
 * attributes contentType, signingTime and messageDigest, the signing
 * certificate and its chain included. The same SignedData writer as S/MIME
 * (src/smime/signed-data.ts, asn1js/PKI.js structures, checked against openssl);
 * `openssl cms -verify -inform DER` prints the XML.
 */
export async function signEvidence(xml: string, identity: EvidenceIdentity, signingTime: Date): Promise<Buffer> {
  const signer = toSignerMaterial({ certificate: identity.certificate, privateKey: identity.privateKey, chain: identity.chain });
  return Buffer.concat(await createSignedData([Buffer.from(xml, 'utf8')], signer, { encapsulate: true, signingTime }));
}

export const sha256 = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
