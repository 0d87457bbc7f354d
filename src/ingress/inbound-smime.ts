import * as pkijs from 'pkijs';
import type { CoreContext } from '../core/context.ts';
import { validateFor } from '../core/certificate-rules.ts';
import { scopesOf } from '../core/certificates.ts';
import { AppError } from '../core/errors.ts';
import { harvestCertificate, type HarvestResult } from '../core/harvest-certificate.ts';
import { identityKeyContext } from '../core/identities.ts';
import { listSigningIdentities } from '../db/repositories/certificates.ts';
import { parseCertificate, type Certificate } from '../pki/certificate.ts';
import { decryptMessage, SmimeError, verifyMessage } from '../smime/index.ts';
import { parse } from '../smime/der.ts';
import { multipartSignedParts, pkcs7MimeDer, readEntity } from '../smime/entity-parts.ts';

/** What the gateway learnt opening one inbound message (for the subject tags and the log). */
export interface OpenedInbound {
  /** The message to deliver: the original header fields over the decrypted, unwrapped content. */
  message: Buffer;
  /** Decrypted with one of the tenant's keys (subject tag `[secure]`). */
  decrypted: boolean;
  /** Which identity's key opened it (it may be expired or retired). */
  decryptedWith?: { identityId: string; fingerprint: string };
  /** A signature was present; `valid` when it verifies and the signer's certificate is valid for signing as the sender (`[signed OK]`). */
  signature?: { valid: boolean; reason?: string; signer?: string };
  harvest?: HarvestResult;
}

const ENCRYPTED = 'enveloped-data';

/**
 * Inbound S/MIME for a tenant's own domains (docs/ingress.md, "Inbound S/MIME"):
 * decrypt with any of the recipients' identities, current, expired or retired
 * (old keys are kept for exactly this); verify the signature; keep the
 * sender's certificate (`harvested`) when it is valid for encryption to them.
 * A message that is encrypted but opens with none of our keys is refused
 * (the sending MTA bounces it with the reason).
 */
export async function openInbound(
  ctx: Pick<CoreContext, 'db' | 'cipher' | 'crls' | 'revocation'>,
  tenantId: string,
  raw: Buffer,
  envelope: { from: string; recipients: string[] },
): Promise<OpenedInbound> {
  const entity = readEntity(raw);
  const outer = entity.outer;
  let current = raw;
  const result: Omit<OpenedInbound, 'message'> = { decrypted: false };

  if (isPkcs7(entity.type) && (entity.parameters['smime-type']?.toLowerCase() ?? ENCRYPTED) === ENCRYPTED) {
    const opened = await decryptForRecipients(ctx, tenantId, raw, envelope.recipients);
    current = opened.message;
    result.decrypted = true;
    result.decryptedWith = opened.identity;
  }

  const inner = readEntity(current);
  if (inner.type === 'multipart/signed' || (isPkcs7(inner.type) && inner.parameters['smime-type']?.toLowerCase() === 'signed-data')) {
    const verified = await verifyMessage(current);
    if (!verified.valid || !verified.signer) {
      result.signature = { valid: false, reason: verified.reason ?? 'the signature does not verify' };
    } else {
      const signer = parseCertificate(verified.signer.certificate);
      const chain = carriedCertificates(inner).filter((c) => !Buffer.from(c.rawData).equals(Buffer.from(signer.rawData)));
      const check = await validateFor(ctx, tenantId, signer, { purpose: 'sign', address: envelope.from, chain }, {});
      result.signature = check.ok ? { valid: true, signer: signer.subject } : { valid: false, reason: check.reason, signer: signer.subject };
      if (check.ok) result.harvest = await harvestCertificate(ctx, tenantId, envelope.from, signer, chain);
    }
    // The signed entity becomes the content; the outer fields (Subject, From, To …) stay.
    current = Buffer.concat([Buffer.from(outer, 'latin1'), Buffer.from('MIME-Version: 1.0\r\n', 'latin1'), verified.content]);
  }
  return { message: current, ...result };
}

async function decryptForRecipients(
  ctx: Pick<CoreContext, 'db' | 'cipher'>,
  tenantId: string,
  raw: Buffer,
  recipients: string[],
): Promise<{ message: Buffer; identity: { identityId: string; fingerprint: string } }> {
  const scopes = [...new Set(recipients.flatMap((r) => scopesOf(r.toLowerCase())))];
  // Every identity for these addresses and their domains, retired and expired ones included, newest first.
  const identities = await listSigningIdentities(ctx.db, tenantId, { scopes });
  for (const row of identities) {
    try {
      const message = await decryptMessage(raw, { certificate: row.certificate, privateKey: ctx.cipher.open(row.privateKey, identityKeyContext(row.id)) });
      return { message, identity: { identityId: row.id, fingerprint: row.fingerprint } };
    } catch (error) {
      if (error instanceof SmimeError && error.code === 'smime_not_for_recipient') continue;
      if (error instanceof SmimeError) throw new AppError('invalid_request', `the encrypted message cannot be read: ${error.message}`, { smime: error.code });
      throw error;
    }
  }
  throw new AppError(
    'invalid_request',
    identities.length === 0
      ? `the message is encrypted, but no key is held for ${recipients.join(', ')}`
      : `the message is encrypted, but for none of the ${identities.length} key(s) held for ${recipients.join(', ')} (current or expired)`,
    { smime: 'smime_not_for_recipient' },
  );
}

/** The certificates a SignedData carries (the signer's chain, usually). Unreadable ones are skipped. */
function carriedCertificates(entity: ReturnType<typeof readEntity>): Certificate[] {
  try {
    const der = entity.type === 'multipart/signed' ? multipartSignedParts(entity).signature : pkcs7MimeDer(entity, 'signed-data');
    const info = new pkijs.ContentInfo({ schema: parse(der, 'ContentInfo') });
    const signed = new pkijs.SignedData({ schema: info.content });
    return (signed.certificates ?? [])
      .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .flatMap((c) => {
        try {
          return [parseCertificate(new Uint8Array(c.toSchema(false).toBER(false)))];
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
}

const isPkcs7 = (type: string) => type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime';
