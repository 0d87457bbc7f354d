import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Certificate } from './certificate.ts';

/** Thrown for a private key that cannot be read; the core maps it to invalid_certificate. */
export class PrivateKeyFormatError extends Error {
  override name = 'PrivateKeyFormatError';
}

/** A private key from PEM (PKCS#8, PKCS#1 RSA, SEC1 EC) or PKCS#8 DER, to PKCS#8 DER. */
export function parsePrivateKey(input: string | Uint8Array): Buffer {
  let key: KeyObject;
  try {
    const text = typeof input === 'string' ? input : undefined;
    if (text?.includes('ENCRYPTED PRIVATE KEY')) throw new PrivateKeyFormatError('the private key is encrypted: send it unencrypted over TLS, or as PKCS#12');
    key =
      text !== undefined
        ? createPrivateKey({ key: text, format: 'pem' })
        : createPrivateKey({ key: Buffer.from(input as Uint8Array), format: 'der', type: 'pkcs8' });
  } catch (error) {
    if (error instanceof PrivateKeyFormatError) throw error;
    throw new PrivateKeyFormatError('the private key is not a PEM or PKCS#8 DER key', { cause: error });
  }
  return key.export({ format: 'der', type: 'pkcs8' });
}

/** "rsa-2048", "rsa-pss-3072", "ec-prime256v1", "ed25519" … for display and for the S/MIME engine's choice of scheme. */
export function keyAlgorithmOf(pkcs8: Buffer): string {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return `ec-${details.namedCurve ?? 'unknown'}`;
  if (details.modulusLength) return `${key.asymmetricKeyType}-${details.modulusLength}`;
  return String(key.asymmetricKeyType);
}

/** True when the private key is the one whose public half the certificate carries. */
export function keyMatchesCertificate(pkcs8: Buffer, cert: Certificate): boolean {
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
  return spki.equals(Buffer.from(cert.publicKey.rawData));
}
