import { createCipheriv, createDecipheriv, createECDH, createHash, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import type * as pkijs from 'pkijs';
import { isIssuerAndSerial, type SmimeCertificate } from './certificates.ts';
import { TAG, algorithmIdentifier, encode, octetString, smallInteger, tlv, type Chunks } from './der.ts';
import { SmimeError } from './errors.ts';
import { OID } from './oids.ts';

/**
 * ECDH ephemeral-static key agreement for P-256 recipients (RFC 5753 3.1,
 * RFC 8418 style): dhSinglePass-stdDH-sha256kdf-scheme, the X9.63 KDF with
 * SHA-256 over ECC-CMS-SharedInfo, and AES-256 key wrap (RFC 3394) of the
 * content-encryption key.
 */
const AES_WRAP_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/** The dhSinglePass-stdDH KDF schemes we read (RFC 5753 7.1.4, SEC 1); we write the SHA-256 one. */
const kdfDigest: Record<string, string> = {
  '1.3.133.16.840.63.0.2': 'sha1',
  '1.3.132.1.11.0': 'sha224',
  [OID.dhSinglePassStdDhSha256Kdf]: 'sha256',
  '1.3.132.1.11.2': 'sha384',
  '1.3.132.1.11.3': 'sha512',
};
const wrapCipher: Record<string, { cipher: string; bits: number }> = {
  [OID.aes128Wrap]: { cipher: 'id-aes128-wrap', bits: 128 },
  [OID.aes192Wrap]: { cipher: 'id-aes192-wrap', bits: 192 },
  [OID.aes256Wrap]: { cipher: 'id-aes256-wrap', bits: 256 },
};

/** X9.63 KDF (SEC 1 3.6.1) with ECC-CMS-SharedInfo (RFC 5753 7.2) as the shared info. */
function keyEncryptionKey(sharedSecret: Buffer, digest: string, wrapAlgorithm: Buffer, bits: number, ukm?: Buffer): Buffer {
  const suppPubInfo = Buffer.alloc(4);
  suppPubInfo.writeUInt32BE(bits);
  const sharedInfo = Buffer.concat(
    tlv(
      TAG.sequence,
      wrapAlgorithm,
      ...(ukm ? [tlv(TAG.context0, octetString(ukm))] : []),
      tlv(0xa2, octetString(suppPubInfo)),
    ),
  );
  const out: Buffer[] = [];
  for (let counter = 1; out.length * 8 < bits / 8; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash(digest).update(sharedSecret).update(c).update(sharedInfo).digest());
  }
  return Buffer.concat(out).subarray(0, bits / 8);
}

function uncompressedPoint(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new SmimeError('smime_unsupported_key', `EC recipients must use P-256, not ${jwk.crv}`);
  return Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/** KeyAgreeRecipientInfo (RFC 5652 6.2.2) as the [1]-tagged RecipientInfo choice, with a fresh ephemeral key. */
export function keyAgreeRecipientInfo(recipient: SmimeCertificate, contentKey: Buffer): Chunks {
  const ephemeral = createECDH('prime256v1');
  const ephemeralPoint = ephemeral.generateKeys();
  const sharedSecret = ephemeral.computeSecret(uncompressedPoint(recipient.publicKey));
  const wrapAlgorithm = algorithmIdentifier(OID.aes256Wrap);
  const kek = keyEncryptionKey(sharedSecret, 'sha256', wrapAlgorithm, 256);
  const wrap = createCipheriv('id-aes256-wrap', kek, AES_WRAP_IV);
  const encryptedKey = Buffer.concat([wrap.update(contentKey), wrap.final()]);

  const originatorKey = tlv(
    TAG.context1,
    algorithmIdentifier(OID.ecPublicKey), // parameters absent: the recipient's curve (RFC 5753 7.1.2)
    encode(new asn1js.BitString({ valueHex: ephemeralPoint })),
  );
  return tlv(
    0xa1,
    smallInteger(3),
    tlv(TAG.context0, originatorKey),
    algorithmIdentifier(OID.dhSinglePassStdDhSha256Kdf, wrapAlgorithm),
    tlv(TAG.sequence, tlv(TAG.sequence, recipient.issuerAndSerialNumber, octetString(encryptedKey))),
  );
}

/** The content-encryption key from a parsed KeyAgreeRecipientInfo, or undefined when it is not addressed to `recipient`. */
export function unwrapKeyAgreement(info: pkijs.KeyAgreeRecipientInfo, recipient: SmimeCertificate, privateKey: KeyObject): Buffer | undefined {
  const entry = info.recipientEncryptedKeys.encryptedKeys.find((k) => k.rid.variant === 1 && isIssuerAndSerial(recipient, k.rid.value as pkijs.IssuerAndSerialNumber));
  if (!entry) return undefined;
  const digest = kdfDigest[info.keyEncryptionAlgorithm.algorithmId];
  const wrapId = info.keyEncryptionAlgorithm.algorithmParams as asn1js.Sequence | undefined;
  const wrapOid = (wrapId?.valueBlock.value[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock.toString();
  const wrap = wrapOid ? wrapCipher[wrapOid] : undefined;
  if (!digest || !wrap || !wrapId) {
    throw new SmimeError('smime_unsupported_algorithm', `key agreement ${info.keyEncryptionAlgorithm.algorithmId} with ${wrapOid} is not supported`);
  }
  if (info.originator.variant !== 3) throw new SmimeError('smime_unsupported_algorithm', 'only an ephemeral originator key is supported');
  const originator = info.originator.value as pkijs.OriginatorPublicKey;
  const point = Buffer.from(originator.publicKey.valueBlock.valueHexView);
  const jwk = privateKey.export({ format: 'jwk' });
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: jwk.crv, x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') },
    format: 'jwk',
  });
  const sharedSecret = diffieHellman({ privateKey, publicKey });
  const ukm = info.ukm ? Buffer.from(info.ukm.valueBlock.valueHexView) : undefined;
  const kek = keyEncryptionKey(sharedSecret, digest, Buffer.from(wrapId.toBER(false)), wrap.bits, ukm);
  const unwrap = createDecipheriv(wrap.cipher, kek, AES_WRAP_IV);
  return Buffer.concat([unwrap.update(Buffer.from(entry.encryptedKey.valueBlock.valueHexView)), unwrap.final()]);
}
