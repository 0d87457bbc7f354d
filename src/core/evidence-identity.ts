import { and, desc, eq, isNull } from 'drizzle-orm';
import { signingIdentities } from '../db/schema.ts';
import { derOf, parseCertificates } from '../pki/certificate.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import { validateStored, type PkiContext } from './certificate-rules.ts';
import { identityKeyContext } from './identities.ts';
import { readSetting } from './settings-cache.ts';

/** The key and certificates that sign evidence, whoever provides them. */
export interface EvidenceIdentity {
  source: 'tenant' | 'service' | 'development';
  /** DER of the signing certificate. */
  certificate: Buffer;
  /** DER of the intermediates (and root, if the operator bundled it), carried in every SignedData. */
  chain: Buffer[];
  /** PKCS#8 DER. */
  privateKey: Buffer;
}

/**
 * The tenant's own evidence identity: the newest signing identity marked
 * `forEvidence`, not retired, and valid for signing now (chain to the tenant's
 * anchors, validity, key usage, revocation). Undefined when there is none, so
 * the service's identity signs instead; an invalid one is skipped, reported via `onSkip`.
 */
export async function chooseTenantEvidenceIdentity(
  ctx: PkiContext & { cipher: ContentCipher },
  tenantId: string,
  onSkip: (identityId: string, reason: string) => void = () => {},
): Promise<EvidenceIdentity | undefined> {
  const rows = await readSetting(ctx, tenantId, 'evidence-identities', async () =>
    ctx.db
      .select()
      .from(signingIdentities)
      .where(and(eq(signingIdentities.tenantId, tenantId), eq(signingIdentities.forEvidence, true), isNull(signingIdentities.retiredAt)))
      .orderBy(desc(signingIdentities.notBefore), desc(signingIdentities.createdAt)),
  );
  for (const row of rows) {
    const result = await validateStored(ctx, row, 'sign', {});
    if (!result.ok) {
      onSkip(row.id, result.reason);
      continue;
    }
    return {
      source: 'tenant',
      certificate: row.certificate,
      chain: row.chainPem ? parseCertificates(row.chainPem).map(derOf) : [],
      privateKey: ctx.cipher.open(row.privateKey, identityKeyContext(row.id)),
    };
  }
  return undefined;
}
