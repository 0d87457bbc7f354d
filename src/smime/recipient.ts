import { toCertificate, type CertificateInput, type SmimeCertificate } from './certificates.ts';
import type { KeyTransport, RecipientMaterial } from './enveloped-data.ts';
import { SmimeError } from './errors.ts';

/** A recipient as callers pass it. `keyTransport` applies to RSA certificates; EC (P-256) recipients always use ECDH. */
export interface Recipient {
  certificate: CertificateInput | SmimeCertificate;
  keyTransport?: KeyTransport;
}

export function toRecipientMaterial(recipient: Recipient): RecipientMaterial {
  const certificate = toCertificate(recipient.certificate);
  const type = certificate.publicKey.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') throw new SmimeError('smime_unsupported_key', `cannot encrypt to a ${type} certificate`);
  if (type === 'ec' && certificate.publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SmimeError('smime_unsupported_key', `cannot encrypt to EC curve ${certificate.publicKey.asymmetricKeyDetails?.namedCurve}; use P-256`);
  }
  return { certificate, keyTransport: recipient.keyTransport ?? 'rsaes-pkcs1-v1_5' };
}
