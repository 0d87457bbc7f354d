import { constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import type { SmimeCertificate } from './certificates.ts';
import { TAG, algorithmIdentifier, octetString, oid, smallInteger, tlv, type Chunks } from './der.ts';
import { keyAgreeRecipientInfo } from './key-agreement.ts';
import { OID } from './oids.ts';

/** Key transport for RSA recipients (RFC 8551 2.3): PKCS#1 v1.5 is what every client decrypts; OAEP-SHA256 where the recipient supports it. */
export type KeyTransport = 'rsaes-pkcs1-v1_5' | 'rsaes-oaep-sha256';

export interface RecipientMaterial {
  certificate: SmimeCertificate;
  keyTransport: KeyTransport;
}

const sha256Id = algorithmIdentifier(OID.sha256);

/** RSAES-OAEP-params (RFC 4055 4.1, RFC 8017 A.2.1): SHA-256 and MGF1-SHA-256, empty label (pSourceFunc default). */
const oaepSha256 = algorithmIdentifier(
  OID.rsaesOaep,
  Buffer.concat(tlv(TAG.sequence, tlv(TAG.context0, sha256Id), tlv(TAG.context1, algorithmIdentifier(OID.mgf1, sha256Id)))),
);

/** KeyTransRecipientInfo (RFC 5652 6.2.1), version 0, identified by issuer and serial number. */
function keyTransRecipientInfo(recipient: RecipientMaterial, contentKey: Buffer): Chunks {
  const oaep = recipient.keyTransport === 'rsaes-oaep-sha256';
  const encryptedKey = publicEncrypt(
    oaep
      ? { key: recipient.certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }
      : { key: recipient.certificate.publicKey, padding: constants.RSA_PKCS1_PADDING },
    contentKey,
  );
  return tlv(
    TAG.sequence,
    smallInteger(0),
    recipient.certificate.issuerAndSerialNumber,
    oaep ? oaepSha256 : algorithmIdentifier(OID.rsaEncryption, null),
    octetString(encryptedKey),
  );
}

/**
 * ContentInfo(EnvelopedData) (RFC 5652 6) of `content`, as DER chunks:
 * AES-256-CBC with a fresh key and IV, done with node:crypto over the caller's
 * chunks (no WebCrypto copy); one RecipientInfo per recipient — KeyTransRecipientInfo
 * for RSA, KeyAgreeRecipientInfo (ECDH, RFC 5753) for P-256. The ciphertext is
 * the only new payload-sized buffer until the caller concatenates the chunks.
 */
export function createEnvelopedData(content: Chunks, recipients: RecipientMaterial[]): Chunks {
  const contentKey = randomBytes(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
  const ciphertext = [...content.map((c) => cipher.update(c)), cipher.final()];

  const recipientInfos = recipients.map((r) =>
    r.certificate.publicKey.asymmetricKeyType === 'ec' ? keyAgreeRecipientInfo(r.certificate, contentKey) : keyTransRecipientInfo(r, contentKey),
  );
  const anyKeyAgreement = recipients.some((r) => r.certificate.publicKey.asymmetricKeyType === 'ec');
  contentKey.fill(0);

  const encryptedContentInfo = tlv(
    TAG.sequence,
    oid(OID.data),
    algorithmIdentifier(OID.aes256Cbc, Buffer.concat(octetString(iv))),
    tlv(TAG.context0Primitive, ciphertext),
  );
  const envelopedData = tlv(
    TAG.sequence,
    // RFC 5652 6.1: version 2 as soon as a RecipientInfo is not version 0 (kari is version 3).
    smallInteger(anyKeyAgreement ? 2 : 0),
    tlv(TAG.set, ...recipientInfos),
    encryptedContentInfo,
  );
  return tlv(TAG.sequence, oid(OID.envelopedData), tlv(TAG.context0, envelopedData));
}
