import { constants, createDecipheriv, privateDecrypt, randomBytes, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isIssuerAndSerial, toCertificate, type CertificateInput, type SmimeCertificate } from './certificates.ts';
import { parse } from './der.ts';
import { pkcs7MimeDer, readEntity } from './entity-parts.ts';
import { SmimeError } from './errors.ts';
import { unwrapKeyAgreement } from './key-agreement.ts';
import { toPrivateKey, type PrivateKeyInput } from './keys.ts';
import { OID, digestByOid } from './oids.ts';

const contentCiphers: Record<string, string> = {
  [OID.aes128Cbc]: 'aes-128-cbc',
  [OID.aes192Cbc]: 'aes-192-cbc',
  [OID.aes256Cbc]: 'aes-256-cbc',
  [OID.desEde3Cbc]: 'des-ede3-cbc',
};
const keyLength: Record<string, number> = { 'aes-128-cbc': 16, 'aes-192-cbc': 24, 'aes-256-cbc': 32, 'des-ede3-cbc': 24 };

/**
 * Decrypts an `application/pkcs7-mime; smime-type=enveloped-data` message for
 * one recipient and returns the message again: the outer header fields
 * followed by the decrypted entity (which may be multipart/signed; pass it to
 * verifyMessage). Reads RSA key transport (PKCS#1 v1.5, OAEP) and ECDH key
 * agreement, AES-CBC and 3DES content encryption.
 */
export async function decryptMessage(message: Buffer, recipient: { certificate: CertificateInput | SmimeCertificate; privateKey: PrivateKeyInput }): Promise<Buffer> {
  const entity = readEntity(message);
  const certificate = toCertificate(recipient.certificate);
  const privateKey = toPrivateKey(recipient.privateKey);
  let enveloped: pkijs.EnvelopedData;
  try {
    const info = new pkijs.ContentInfo({ schema: parse(pkcs7MimeDer(entity, 'enveloped-data'), 'ContentInfo') });
    if (info.contentType !== OID.envelopedData) throw new SmimeError('smime_malformed', `content type ${info.contentType} is not EnvelopedData`);
    enveloped = new pkijs.EnvelopedData({ schema: info.content });
  } catch (cause) {
    throw cause instanceof SmimeError ? cause : new SmimeError('smime_malformed', 'not a CMS EnvelopedData', { cause });
  }

  const algorithm = enveloped.encryptedContentInfo.contentEncryptionAlgorithm;
  const cipher = contentCiphers[algorithm.algorithmId];
  if (!cipher) throw new SmimeError('smime_unsupported_algorithm', `content encryption ${algorithm.algorithmId} is not supported`);
  const contentKey = recipientKey(enveloped, certificate, privateKey, keyLength[cipher]!);
  const iv = Buffer.from((algorithm.algorithmParams as asn1js.OctetString).valueBlock.valueHexView);
  const ciphertext = enveloped.encryptedContentInfo.getEncryptedContent();
  try {
    const decipher = createDecipheriv(cipher, contentKey, iv);
    const content = Buffer.concat([decipher.update(new Uint8Array(ciphertext)), decipher.final()]);
    return Buffer.concat([Buffer.from(entity.outer + 'MIME-Version: 1.0\r\n', 'latin1'), content]);
  } catch (cause) {
    throw new SmimeError('smime_not_for_recipient', 'the content does not decrypt with this key', { cause });
  }
}

function recipientKey(enveloped: pkijs.EnvelopedData, certificate: SmimeCertificate, privateKey: KeyObject, length: number): Buffer {
  for (const info of enveloped.recipientInfos) {
    if (info.variant === 1) {
      const ktri = info.value as pkijs.KeyTransRecipientInfo;
      if (ktri.rid instanceof pkijs.IssuerAndSerialNumber && isIssuerAndSerial(certificate, ktri.rid)) {
        return keyTransport(ktri, privateKey, length);
      }
    } else if (info.variant === 2) {
      const key = unwrapKeyAgreement(info.value as pkijs.KeyAgreeRecipientInfo, certificate, privateKey);
      if (key) return key;
    }
  }
  throw new SmimeError('smime_not_for_recipient', 'the message has no RecipientInfo for this certificate');
}

function keyTransport(ktri: pkijs.KeyTransRecipientInfo, privateKey: KeyObject, length: number): Buffer {
  const encryptedKey = Buffer.from(ktri.encryptedKey.valueBlock.valueHexView);
  const algorithm = ktri.keyEncryptionAlgorithm;
  if (algorithm.algorithmId === OID.rsaesOaep) {
    const params = algorithm.algorithmParams ? new pkijs.RSAESOAEPParams({ schema: algorithm.algorithmParams }) : new pkijs.RSAESOAEPParams();
    const oaepHash = digestByOid[params.hashAlgorithm.algorithmId] ?? 'sha1';
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, encryptedKey);
  }
  if (algorithm.algorithmId !== OID.rsaEncryption) {
    throw new SmimeError('smime_unsupported_algorithm', `key transport ${algorithm.algorithmId} is not supported`);
  }
  return pkcs1v15Unpad(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encryptedKey), length);
}

/**
 * EME-PKCS1-v1_5 decoding (RFC 8017 7.2.2) done here because node refuses
 * RSA_PKCS1_PADDING for private decryption (CVE-2023-46809). As RFC 3218 2.3.2
 * advises, a malformed block yields a random key instead of an error, so the
 * failure surfaces only as undecryptable content.
 */
function pkcs1v15Unpad(block: Buffer, length: number): Buffer {
  const separator = block.indexOf(0, 2);
  const ok = block[0] === 0 && block[1] === 2 && separator >= 10 && block.length - separator - 1 === length;
  return ok ? block.subarray(separator + 1) : randomBytes(length);
}
