import type { Db } from '../db/client.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import type { findEncryptionCertificate } from '../core/certificates.ts';
import { chooseSigningIdentity } from '../core/identities.ts';
import { derOf, summarise, type Certificate } from '../pki/certificate.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { CrlSource } from '../pki/crl-store.ts';
import type { RevocationNetwork } from '../pki/revocation.ts';
import type { SmimePool } from '../smime/index.ts';
import type { SettingsCache } from '../core/settings-cache.ts';

/** Where the stage reports how long signing (and encrypting) a copy took. */
export interface ProtectionMetrics {
  protection(operation: 'sign' | 'sign_encrypt' | 'encrypt', seconds: number): void;
}

export interface ProtectionDeps {
  db: Db;
  cipher: ContentCipher;
  crls?: CrlSource | undefined;
  /** CRLs by URL and OCSP (src/pki/revocation.ts), consulted when choosing certificates. */
  revocation?: RevocationNetwork | undefined;
  /** The worker's settings cache (src/core/settings-cache.ts): identities, certificates, anchors and policies without a query per copy. */
  settings?: SettingsCache | undefined;
  metrics?: ProtectionMetrics | undefined;
  /** Created on first use: tenants without a signing identity never start its threads. */
  smime: () => SmimePool;
}

export interface Protected {
  raw: Buffer;
  /** For the `delivered` event: what signed and encrypted this copy, or why not. */
  detail: Record<string, unknown>;
}

/** A recipient certificate to encrypt to (src/core/certificates.ts findEncryptionCertificate). */
export type EncryptionCertificate = NonNullable<Awaited<ReturnType<typeof findEncryptionCertificate>>>;

/**
 * The S/MIME stage between rendering and sending. Signs with the sender's (or
 * its domain's) valid identity; given a recipient certificate (route `smime`),
 * signs then encrypts, to the recipient and to the sender's own certificate (so
 * the sender can read its archived copy). Routes `signed` and `portal` (the
 * notification) are signed only. Without a signature (no identity, or the
 * message's protection says `sign: false`) a copy for a certificate is still
 * encrypted (EnvelopedData only), never sent in the clear; anything else goes
 * as rendered. The logbook detail says what was done and why not.
 * Which route a copy takes is src/core/delivery-route.ts's.
 */
export async function protectMessage(
  deps: ProtectionDeps,
  message: MessageRow,
  recipient: RecipientRow,
  raw: Buffer,
  recipientCertificate: EncryptionCertificate | undefined,
  unencryptedReason = `no valid certificate for ${recipient.address}`,
  options: { sign: boolean } = { sign: true },
): Promise<Protected> {
  const started = performance.now();
  const report = (operation: 'sign' | 'sign_encrypt' | 'encrypt') => deps.metrics?.protection(operation, (performance.now() - started) / 1000);
  const identity = await chooseSigningIdentity(deps, message.tenantId, message.fromAddress);
  const encryptTo = recipientCertificate && { certificate: derOf(recipientCertificate.certificate), keyTransport: recipientCertificate.keyTransport };
  const encryptedFor = recipientCertificate && [{ ...describe(recipientCertificate.certificate), keyTransport: recipientCertificate.keyTransport }];
  if (!identity || !options.sign) {
    const reason = options.sign ? `no valid signing identity for ${message.fromAddress}` : 'the message asks for no signature (protection sign: false)';
    if (!encryptTo) return { raw, detail: { signed: false, encrypted: false, reason } };
    // Encrypted without a signature: to the recipient, and to the sender's own certificate when it has one.
    const sender = identity && { certificate: derOf(identity.certificate) };
    const enveloped = await deps.smime().encryptMessage(raw, sender ? [encryptTo, sender] : [encryptTo]);
    report('encrypt');
    return {
      raw: enveloped,
      detail: { signed: false, reason, encrypted: true, encryptedFor: identity ? [...encryptedFor!, describe(identity.certificate)] : encryptedFor },
    };
  }
  const signer = { certificate: derOf(identity.certificate), privateKey: identity.privateKey, chain: identity.chain.map(derOf) };
  const signedBy = describe(identity.certificate);
  if (!encryptTo) {
    const signed = await deps.smime().signMessage(raw, signer);
    report('sign');
    return { raw: signed, detail: { signed: true, signedBy, encrypted: false, reason: unencryptedReason } };
  }
  const enveloped = await deps.smime().signThenEncrypt(raw, signer, [encryptTo, { certificate: derOf(identity.certificate) }]);
  report('sign_encrypt');
  return { raw: enveloped, detail: { signed: true, signedBy, encrypted: true, encryptedFor: [...encryptedFor!, signedBy] } };
}

function describe(cert: Certificate) {
  const { issuer, serial, fingerprint } = summarise(cert);
  return { issuer, serial, fingerprint };
}
