import type { Db } from '../db/client.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import { findEncryptionCertificate } from '../core/certificates.ts';
import { chooseSigningIdentity } from '../core/identities.ts';
import { derOf, summarise, type Certificate } from '../pki/certificate.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { CrlSource } from '../pki/crl-store.ts';
import type { RevocationNetwork } from '../pki/revocation.ts';
import type { SmimePool } from '../smime/index.ts';

/** Where the stage reports how long signing (and encrypting) a copy took. */
export interface ProtectionMetrics {
  protection(operation: 'sign' | 'sign_encrypt', seconds: number): void;
}

export interface ProtectionDeps {
  db: Db;
  cipher: ContentCipher;
  crls?: CrlSource | undefined;
  /** CRLs by URL and OCSP (src/pki/revocation.ts), consulted when choosing certificates. */
  revocation?: RevocationNetwork | undefined;
  metrics?: ProtectionMetrics | undefined;
  /** Created on first use: tenants without a signing identity never start its threads. */
  smime: () => SmimePool;
}

export interface Protected {
  raw: Buffer;
  /** For the `delivered` event: what signed and encrypted this copy, or why not. */
  detail: Record<string, unknown>;
}

/**
 * The S/MIME stage between rendering and sending. Signs with the sender's (or
 * its domain's) valid identity; when the recipient has a valid certificate,
 * signs then encrypts, to the recipient and to the sender's own certificate (so
 * the sender can read its archived copy). No identity: sent as rendered, and the
 * logbook says so. Which copy goes to the portal instead is the modes issue's.
 */
export async function protectMessage(deps: ProtectionDeps, message: MessageRow, recipient: RecipientRow, raw: Buffer): Promise<Protected> {
  const started = performance.now();
  const identity = await chooseSigningIdentity(deps, message.tenantId, message.fromAddress);
  if (!identity) {
    return { raw, detail: { signed: false, encrypted: false, reason: `no valid signing identity for ${message.fromAddress}` } };
  }
  const report = (operation: 'sign' | 'sign_encrypt') => deps.metrics?.protection(operation, (performance.now() - started) / 1000);
  const signer = { certificate: derOf(identity.certificate), privateKey: identity.privateKey, chain: identity.chain.map(derOf) };
  const signedBy = describe(identity.certificate);
  const recipientCertificate = await findEncryptionCertificate(deps, message.tenantId, recipient.address);
  if (!recipientCertificate) {
    const signed = await deps.smime().signMessage(raw, signer);
    report('sign');
    return { raw: signed, detail: { signed: true, signedBy, encrypted: false, reason: `no valid certificate for ${recipient.address}` } };
  }
  const recipients = [
    { certificate: derOf(recipientCertificate.certificate), keyTransport: recipientCertificate.keyTransport },
    { certificate: derOf(identity.certificate) },
  ];
  const enveloped = await deps.smime().signThenEncrypt(raw, signer, recipients);
  report('sign_encrypt');
  return {
    raw: enveloped,
    detail: {
      signed: true,
      signedBy,
      encrypted: true,
      encryptedFor: [{ ...describe(recipientCertificate.certificate), keyTransport: recipientCertificate.keyTransport }, signedBy],
    },
  };
}

function describe(cert: Certificate) {
  const { issuer, serial, fingerprint } = summarise(cert);
  return { issuer, serial, fingerprint };
}
