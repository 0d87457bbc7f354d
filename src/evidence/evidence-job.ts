import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { PkiContext } from '../core/certificate-rules.ts';
import { chooseTenantEvidenceIdentity, type EvidenceIdentity } from '../core/evidence-identity.ts';
import { openContent } from '../core/sealed-content.ts';
import type { Db } from '../db/client.ts';
import { findRecipients } from '../db/repositories/messages.ts';
import { attachmentDigests, eventsWithoutEvidence, insertEvidence, lastEvidence, lockMessageEvidence } from '../db/repositories/evidence.ts';
import { messages } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob } from '../outbox/complete.ts';
import { parseCertificate } from '../pki/certificate.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { JobResult } from '../worker/worker.ts';
import { buildFacts } from './build-facts.ts';
import { evidenceEventTypes } from './event-mapping.ts';
import { CHAIN_START } from './evidence-facts.ts';
import { evidenceXml } from './evidence-xml.ts';
import { sha256, signEvidence } from './sign-evidence.ts';

export interface EvidenceDeps {
  db: Db;
  cipher: ContentCipher;
  pki: PkiContext;
  messageIdDomain: string;
  policyId: string;
  /** The service's identity (configured or development), loaded once on first use. */
  serviceIdentity: () => Promise<EvidenceIdentity>;
}

/**
 * An `evidence` job: issues evidence for every evidence-worthy event of the
 * message that has none yet, in event order, each chained to the one before
 * and signed, then removes the job, all in one transaction under a per-message
 * lock. Retries and concurrent workers find nothing left to do (idempotent);
 * a crash before commit leaves nothing behind and the job comes back.
 */
export async function evidenceJob(deps: EvidenceDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const messageId = job.messageId;
  const [message] = messageId ? await deps.db.select().from(messages).where(eq(messages.id, messageId)) : [];
  if (!message) {
    log.error('evidence job for a message that does not exist; removing it');
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  // Chosen before the transaction: validation may fetch revocation data.
  const identity =
    (await chooseTenantEvidenceIdentity({ ...deps.pki, cipher: deps.cipher }, message.tenantId, (identityId, reason) =>
      log.warn({ identityId, reason }, 'the tenant evidence identity is not valid; the service identity signs instead'),
    )) ?? (await deps.serviceIdentity());
  const certificate = parseCertificate(identity.certificate);
  const issuer = { name: certificate.subject, certificateSha256: sha256(identity.certificate).toString('hex') };

  return deps.db.transaction(async (tx): Promise<JobResult> => {
    await lockMessageEvidence(tx, message.id);
    const pending = await eventsWithoutEvidence(tx, message.id, evidenceEventTypes);
    if (pending.length > 0) {
      const recipients = await findRecipients(tx, [message.id]);
      const attachments = await attachmentDigests(tx, message.id);
      const content = openContent(deps.cipher, message.id, message.content);
      let previous = await lastEvidence(tx, message.id);
      for (const event of pending) {
        const issuedAt = new Date();
        const sequence = (previous?.sequence ?? 0) + 1;
        const facts = buildFacts({
          evidenceId: randomUUID(),
          event,
          message,
          recipients,
          content,
          attachments,
          issuer,
          policyId: deps.policyId,
          messageIdDomain: deps.messageIdDomain,
          chain: { sequence, previousDigest: previous ? previous.sha256.toString('hex') : CHAIN_START },
          issuedAt,
        });
        if (!facts) continue;
        const signed = await signEvidence(evidenceXml(facts), identity, issuedAt);
        const row = {
          id: facts.evidenceId,
          tenantId: message.tenantId,
          messageId: message.id,
          recipientId: event.recipientId,
          eventId: event.id,
          sequence,
          type: facts.type,
          facts: facts as unknown as Record<string, unknown>,
          signed,
          sha256: sha256(signed),
          previousSha256: previous ? previous.sha256 : Buffer.alloc(32),
          signerFingerprint: issuer.certificateSha256,
          createdAt: issuedAt,
        };
        await insertEvidence(tx, row);
        previous = row;
        log.info({ evidenceId: row.id, type: row.type, eventId: event.id, sequence, signer: identity.source }, 'evidence issued');
      }
    }
    await completeJob(tx, job.id);
    return 'done';
  });
}
