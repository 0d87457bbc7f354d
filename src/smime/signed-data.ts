import { constants, createHash, sign as signCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import type { SmimeCertificate } from './certificates.ts';
import { TAG, algorithmIdentifier, encode, octetString, oid, setOf, smallInteger, tlv, type Chunks } from './der.ts';
import type { SignatureScheme } from './keys.ts';
import { OID } from './oids.ts';

const sign = promisify(signCallback);

export interface SignerMaterial {
  certificate: SmimeCertificate;
  privateKey: KeyObject;
  chain: SmimeCertificate[];
  scheme: SignatureScheme;
}

const sha256Id = algorithmIdentifier(OID.sha256);

/** RSASSA-PSS-params (RFC 4055 3.1): SHA-256, MGF1 with SHA-256, 32-byte salt. */
const pssParameters = Buffer.concat(
  tlv(
    TAG.sequence,
    tlv(TAG.context0, sha256Id),
    tlv(TAG.context1, algorithmIdentifier(OID.mgf1, sha256Id)),
    tlv(0xa2, smallInteger(32)),
  ),
);

function signatureAlgorithm(scheme: SignatureScheme): Buffer {
  switch (scheme) {
    case 'rsassa-pkcs1-v1_5':
      return algorithmIdentifier(OID.sha256WithRSAEncryption, null);
    case 'rsassa-pss':
      return algorithmIdentifier(OID.rsassaPss, pssParameters);
    case 'ecdsa':
      return algorithmIdentifier(OID.ecdsaWithSha256);
  }
}

/** SMIMECapabilities (RFC 8551 2.5.2): what we can decrypt, strongest first. */
const smimeCapabilities = Buffer.concat(
  tlv(TAG.sequence, ...[OID.aes256Cbc, OID.aes192Cbc, OID.aes128Cbc].map((c) => algorithmIdentifier(c))),
);

const attribute = (type: string, value: Buffer) => Buffer.concat(tlv(TAG.sequence, oid(type), tlv(TAG.set, value)));

/**
 * The signed attributes (RFC 5652 5.3, 11): contentType, signingTime,
 * messageDigest, smimeCapabilities, DER-sorted, because verifiers such as
 * openssl re-encode them before checking the signature.
 */
function signedAttributes(digest: Buffer, signingTime: Date): Buffer[] {
  return [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.signingTime, encode(new asn1js.UTCTime({ valueDate: signingTime }))),
    attribute(OID.messageDigest, Buffer.concat(octetString(digest))),
    attribute(OID.smimeCapabilities, smimeCapabilities),
  ];
}

async function signatureValue(scheme: SignatureScheme, key: KeyObject, data: Buffer): Promise<Buffer> {
  if (scheme === 'rsassa-pss') {
    return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  }
  return sign('sha256', data, key); // ECDSA signatures come out DER-encoded (ECDSA-Sig-Value), as CMS wants
}

/**
 * ContentInfo(SignedData) (RFC 5652 5) over `content`, as DER chunks: SHA-256,
 * one SignerInfo identified by issuer and serial number, the signer's
 * certificate and chain included. With `encapsulate` the content is inside
 * (opaque signing); without, it is detached (multipart/signed).
 *
 * The digest and the signature are computed with node:crypto (the signature on
 * the libuv thread pool), never through WebCrypto's whole-buffer copies.
 */
export async function createSignedData(content: Chunks, signer: SignerMaterial, options: { encapsulate: boolean; signingTime?: Date }): Promise<Chunks> {
  const hash = createHash('sha256');
  for (const chunk of content) hash.update(chunk);
  const attributes = signedAttributes(hash.digest(), options.signingTime ?? new Date());
  const signature = await signatureValue(signer.scheme, signer.privateKey, setOf(attributes));

  const signerInfo = tlv(
    TAG.sequence,
    smallInteger(1),
    signer.certificate.issuerAndSerialNumber,
    sha256Id,
    setOf(attributes, TAG.context0),
    signatureAlgorithm(signer.scheme),
    octetString(signature),
  );
  const encapsulated = options.encapsulate
    ? tlv(TAG.sequence, oid(OID.data), tlv(TAG.context0, tlv(TAG.octetString, content)))
    : tlv(TAG.sequence, oid(OID.data));
  const certificates = [signer.certificate, ...signer.chain].map((c) => c.der);
  const signedData = tlv(
    TAG.sequence,
    smallInteger(1),
    tlv(TAG.set, sha256Id),
    encapsulated,
    tlv(TAG.context0, ...certificates),
    tlv(TAG.set, signerInfo),
  );
  return tlv(TAG.sequence, oid(OID.signedData), tlv(TAG.context0, signedData));
}
