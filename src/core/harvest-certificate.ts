import { insertRecipientCertificate } from '../db/repositories/certificates.ts';
import { toPem, type Certificate } from '../pki/certificate.ts';
import { certificateColumns, isDuplicate, validateFor, type PkiContext, type PkiOptions } from './certificate-rules.ts';

export type HarvestResult =
  | { harvested: true; id: string; fingerprint: string }
  | { harvested: false; fingerprint: string; reason: string };

/**
 * Keeps the certificate of a correspondent whose signed mail reached the tenant
 * (source `harvested`), so the next message to that address is encrypted
 * without anyone importing it. Only a certificate that is valid now for
 * encryption to `address` (chain to the tenant's anchors, validity, key usage,
 * emailProtection, the address itself, revocation) is kept; the caller has
 * already checked the signature. One already stored is left as it is.
 */
export async function harvestCertificate(
  ctx: PkiContext,
  tenantId: string,
  address: string,
  certificate: Certificate,
  chain: Certificate[],
  options: PkiOptions = {},
): Promise<HarvestResult> {
  const scope = address.toLowerCase();
  const columns = certificateColumns(certificate);
  const validation = await validateFor(ctx, tenantId, certificate, { purpose: 'encrypt', address: scope, chain }, options);
  if (!validation.ok) return { harvested: false, fingerprint: columns.fingerprint, reason: validation.reason };
  try {
    const row = await insertRecipientCertificate(ctx.db, {
      tenantId,
      scope,
      ...columns,
      chainPem: toPem(chain),
      source: 'harvested',
      keyTransport: 'rsaes-pkcs1-v1_5',
    });
    return { harvested: true, id: row.id, fingerprint: columns.fingerprint };
  } catch (error) {
    if (isDuplicate(error)) return { harvested: false, fingerprint: columns.fingerprint, reason: 'already stored' };
    throw error;
  }
}
