import { X509Certificate, constants, createHash, verify as verifyCallback, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { toCertificate, type CertificateInput, type SmimeCertificate } from './certificates.ts';
import { parse } from './der.ts';
import { createCmsEngine, type CmsEngine } from './engine.ts';
import { multipartSignedParts, pkcs7MimeDer, readEntity } from './entity-parts.ts';
import { SmimeError } from './errors.ts';
import { OID, digestByOid, type DigestName } from './oids.ts';

const verifySignature = promisify(verifyCallback);

export interface VerifyResult {
  /** The signed entity (detached) or the encapsulated content (opaque), exactly as signed. */
  content: Buffer;
  /** The signer as named by the SignerInfo; absent when the structure could not be read. */
  signer?: { certificate: Buffer; signingTime?: Date };
  valid: boolean;
  /** Why `valid` is false. */
  reason?: string;
}

let defaultEngine: CmsEngine | undefined;

/**
 * Verifies a signed message (multipart/signed or opaque signed-data): the
 * content digest against the messageDigest attribute, the signature over the
 * signed attributes exactly as received (so any changed byte in content,
 * attributes or signature fails), and, when `trustedCertificates` are given,
 * the signer's chain with PKI.js (no revocation or EKU checks here: src/pki).
 * Only the first SignerInfo is checked.
 */
export async function verifyMessage(
  message: Buffer,
  options: { trustedCertificates?: Array<CertificateInput | SmimeCertificate>; checkDate?: Date } = {},
  engine: CmsEngine = (defaultEngine ??= createCmsEngine()),
): Promise<VerifyResult> {
  const entity = readEntity(message);
  let der: Buffer;
  let detached: Buffer | undefined;
  try {
    if (entity.type === 'multipart/signed') {
      const parts = multipartSignedParts(entity);
      der = parts.signature;
      detached = parts.content;
    } else {
      der = pkcs7MimeDer(entity, 'signed-data');
    }
  } catch (cause) {
    if (!(cause instanceof SmimeError)) throw cause;
    return { content: Buffer.alloc(0), valid: false, reason: cause.message };
  }
  let signedData: pkijs.SignedData;
  try {
    const info = new pkijs.ContentInfo({ schema: parse(der, 'ContentInfo') });
    if (info.contentType !== OID.signedData) throw new SmimeError('smime_malformed', `content type ${info.contentType} is not SignedData`);
    signedData = new pkijs.SignedData({ schema: info.content });
  } catch (cause) {
    return { content: detached ?? Buffer.alloc(0), valid: false, reason: `malformed SignedData: ${(cause as Error).message}` };
  }
  const eContent = signedData.encapContentInfo.eContent;
  if (!detached && !(eContent instanceof asn1js.OctetString)) return { content: Buffer.alloc(0), valid: false, reason: 'no encapsulated content' };
  const content = detached ?? Buffer.from((eContent as asn1js.OctetString).getValue());
  try {
    return { content, ...(await checkSigner(signedData, content, options, engine)) };
  } catch (cause) {
    // A structure that parsed but cannot be used (a damaged certificate, unknown parameters) is an invalid signature, not a crash.
    return { content, valid: false, reason: (cause as Error).message };
  }
}

async function checkSigner(
  signedData: pkijs.SignedData,
  content: Buffer,
  options: { trustedCertificates?: Array<CertificateInput | SmimeCertificate>; checkDate?: Date },
  engine: CmsEngine,
): Promise<Omit<VerifyResult, 'content'>> {
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) return { valid: false, reason: 'no SignerInfo' };
  // The fields outside the signature must still be exactly what RFC 5652 5.1/5.3 prescribes, so a changed byte there fails too.
  const bySerial = signerInfo.sid instanceof pkijs.IssuerAndSerialNumber;
  const expectedVersion = !bySerial || signedData.encapContentInfo.eContentType !== OID.data ? 3 : 1;
  if (signedData.version !== expectedVersion || signerInfo.version !== (bySerial ? 1 : 3)) return { valid: false, reason: 'unexpected SignedData or SignerInfo version' };
  if (!signedData.digestAlgorithms.some((a) => a.algorithmId === signerInfo.digestAlgorithm.algorithmId)) {
    return { valid: false, reason: "digestAlgorithms does not list the signer's digest" };
  }
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const found = certificates.find((c) =>
    signerInfo.sid instanceof pkijs.IssuerAndSerialNumber
      ? c.issuer.isEqual(signerInfo.sid.issuer) && c.serialNumber.isEqual(signerInfo.sid.serialNumber)
      : false,
  );
  if (!found) return { valid: false, reason: "the signer's certificate is not in the message" };
  const certificate = toCertificate(Buffer.from(found.toSchema(false).toBER(false)));
  if (!Buffer.from(signerInfo.sid.toSchema().toBER(false)).equals(certificate.issuerAndSerialNumber)) {
    return { valid: false, reason: "the SignerInfo does not name the signer's certificate exactly" };
  }
  const attributes = signerInfo.signedAttrs?.attributes ?? [];
  const time = attributes.find((a) => a.type === OID.signingTime)?.values[0] as asn1js.UTCTime | asn1js.GeneralizedTime | undefined;
  const signer = { certificate: certificate.der, ...(time && { signingTime: time.toDate() }) };
  const fail = (reason: string) => ({ signer, valid: false, reason });

  const digest = digestByOid[signerInfo.digestAlgorithm.algorithmId];
  if (!digest) return fail(`digest ${signerInfo.digestAlgorithm.algorithmId} is not supported`);
  const contentDigest = createHash(digest).update(content).digest();
  let signed: Buffer = content;
  if (signerInfo.signedAttrs) {
    const messageDigest = attributes.find((a) => a.type === OID.messageDigest)?.values[0] as asn1js.OctetString | undefined;
    if (!messageDigest || !contentDigest.equals(Buffer.from(messageDigest.valueBlock.valueHexView))) return fail('the content does not match the messageDigest');
    const contentType = attributes.find((a) => a.type === OID.contentType)?.values[0] as asn1js.ObjectIdentifier | undefined;
    if (contentType?.valueBlock.toString() !== signedData.encapContentInfo.eContentType) return fail('the contentType attribute does not match');
    signed = Buffer.from(signerInfo.signedAttrs.encodedValue);
  }
  const signature = Buffer.from(signerInfo.signature.valueBlock.valueHexView);
  let ok: boolean;
  try {
    ok = await checkSignature(signerInfo.signatureAlgorithm, digest, certificate.publicKey, signed, signature);
  } catch (cause) {
    return fail(`signature: ${(cause as Error).message}`);
  }
  if (!ok) return fail('the signature does not verify');

  if (options.trustedCertificates) {
    const chain = await new pkijs.CertificateChainValidationEngine({
      trustedCerts: options.trustedCertificates.map((c) => toCertificate(c).certificate),
      certs: certificates,
      checkDate: options.checkDate ?? signer.signingTime ?? new Date(),
    }).verify({}, engine);
    if (!chain.result) return fail(`certificate chain: ${chain.resultMessage}`);
    const strict = strictChain(certificate, certificates, options.trustedCertificates.map((c) => toCertificate(c)));
    if (strict) return fail(`certificate chain: ${strict}`);
  }
  return { signer, valid: true };
}

/**
 * The signer's path checked again with OpenSSL (node's X509Certificate.verify),
 * which, unlike PKI.js, also refuses a certificate whose outer signature
 * algorithm differs from the signed one or whose signature BIT STRING is damaged.
 */
function strictChain(signer: SmimeCertificate, carried: pkijs.Certificate[], trusted: SmimeCertificate[]): string | undefined {
  const pool = [...trusted.map((t) => t.der), ...carried.map((c) => Buffer.from(c.toSchema(false).toBER(false)))].map((der) => new X509Certificate(der));
  const anchors = new Set(trusted.map((t) => t.der.toString('base64')));
  let current = new X509Certificate(signer.der);
  for (let depth = 0; depth < 10; depth++) {
    const issuer = pool.find((c) => current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) return `no issuer verifies ${current.subject.replace(/\n/g, ', ')}`;
    if (anchors.has(issuer.raw.toString('base64'))) return undefined;
    current = issuer;
  }
  return 'the chain is too long';
}

const signatureHash: Record<string, DigestName> = {
  [OID.sha256WithRSAEncryption]: 'sha256',
  [OID.sha384WithRSAEncryption]: 'sha384',
  [OID.sha512WithRSAEncryption]: 'sha512',
  [OID.ecdsaWithSha256]: 'sha256',
  [OID.ecdsaWithSha384]: 'sha384',
  [OID.ecdsaWithSha512]: 'sha512',
};

/** PKCS#1 v1.5 and ECDSA AlgorithmIdentifiers carry NULL or no parameters (RFC 4055 5, RFC 5758 3.2). */
function noParameters(algorithm: pkijs.AlgorithmIdentifier): boolean {
  return algorithm.algorithmParams === undefined || algorithm.algorithmParams instanceof asn1js.Null;
}

async function checkSignature(algorithm: pkijs.AlgorithmIdentifier, digest: DigestName, key: KeyObject, data: Buffer, signature: Buffer): Promise<boolean> {
  switch (algorithm.algorithmId) {
    case OID.rsaEncryption:
    case OID.sha256WithRSAEncryption:
    case OID.sha384WithRSAEncryption:
    case OID.sha512WithRSAEncryption:
    case OID.ecdsaWithSha256:
    case OID.ecdsaWithSha384:
    case OID.ecdsaWithSha512:
    case OID.ecPublicKey: {
      // The hash named by the signature algorithm, where it names one, must be the SignerInfo's digest.
      const named = signatureHash[algorithm.algorithmId] ?? digest;
      if (!noParameters(algorithm) || named !== digest) throw new SmimeError('smime_malformed', 'the signature algorithm does not match the digest algorithm');
      return verifySignature(digest, data, key, signature);
    }
    case OID.rsassaPss: {
      const params = new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams });
      const hash = digestByOid[params.hashAlgorithm.algorithmId] ?? 'sha1';
      return verifySignature(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }, signature);
    }
    default:
      throw new SmimeError('smime_unsupported_algorithm', `signature algorithm ${algorithm.algorithmId} is not supported`);
  }
}
