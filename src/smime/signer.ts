import { createPublicKey, type KeyObject } from 'node:crypto';
import { toCertificate, type CertificateInput, type SmimeCertificate } from './certificates.ts';
import { SmimeError } from './errors.ts';
import { defaultScheme, toPrivateKey, type PrivateKeyInput, type SignatureScheme } from './keys.ts';
import type { SignerMaterial } from './signed-data.ts';

/** A signing identity as callers pass it. */
export interface Signer {
  certificate: CertificateInput | SmimeCertificate;
  privateKey: PrivateKeyInput;
  /** Intermediate certificates to include, leaf first; not the root. */
  chain?: Array<CertificateInput | SmimeCertificate>;
  /** RSA keys: PKCS#1 v1.5 (default, for rsaEncryption keys) or RSASSA-PSS (default for id-RSASSA-PSS keys). */
  scheme?: SignatureScheme;
}

/** Normalises a signer once at the boundary and checks the key fits the certificate. */
export function toSignerMaterial(signer: Signer): SignerMaterial {
  const certificate = toCertificate(signer.certificate);
  const privateKey = toPrivateKey(signer.privateKey);
  const scheme = signer.scheme ?? defaultScheme(privateKey);
  const keyType = privateKey.asymmetricKeyType;
  const fits = scheme === 'ecdsa' ? keyType === 'ec' : keyType === 'rsa' || keyType === 'rsa-pss';
  if (!fits || certificate.publicKey.asymmetricKeyType?.replace('-pss', '') !== keyType?.replace('-pss', '')) {
    throw new SmimeError('smime_unsupported_key', `a ${keyType} key cannot sign with ${scheme} for a ${certificate.publicKey.asymmetricKeyType} certificate`);
  }
  defaultScheme(privateKey); // rejects unsupported curves
  if (!publicKeyOf(privateKey).equals(certificate.spki)) {
    throw new SmimeError('smime_unsupported_key', 'the private key does not belong to the signing certificate');
  }
  return { certificate, privateKey, scheme, chain: (signer.chain ?? []).map(toCertificate) };
}

const publicKeys = new WeakMap<KeyObject, Buffer>();

/** SPKI DER of a private key's public half, remembered per KeyObject. */
function publicKeyOf(privateKey: KeyObject): Buffer {
  let spki = publicKeys.get(privateKey);
  if (!spki) publicKeys.set(privateKey, (spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })));
  return spki;
}
