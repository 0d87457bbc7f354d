import { randomUUID } from 'node:crypto';
import type { PkiContext } from '../core/certificate-rules.ts';
import { chooseTenantEvidenceIdentity, type EvidenceIdentity } from '../core/evidence-identity.ts';
import { openContent } from '../core/sealed-content.ts';
import type { Db } from '../db/client.ts';
import { findMessageWithRecipients } from '../db/repositories/messages.ts';
import { attachmentDigests, insertEvidence, lockMessageEvidence, pendingEvidence, type ChainHead, type NewEvidence } from '../db/repositories/evidence.ts';
import type { MessageRow, RecipientRow } from '../db/schema.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob, completeJobStatement } from '../outbox/complete.ts';
import { enqueueJob } from '../outbox/enqueue.ts';
import { JobKind } from '../outbox/job-kinds.ts';
import { rescheduleJob } from '../outbox/reschedule.ts';
import { retryDelaySeconds, type BackoffPolicy } from '../outbox/backoff.ts';
import { parseCertificate } from '../pki/certificate.ts';
import type { ContentCipher } from '../security/content-cipher.ts';
import type { JobResult } from '../worker/worker.ts';
import { buildFacts } from './build-facts.ts';
import { evidenceEventTypes } from './event-mapping.ts';
import { CHAIN_START } from './evidence-facts.ts';
import { evidenceXml } from './evidence-xml.ts';
import { mailsReceipt, type MailReceipts } from './receipt-mail.ts';
import { sha256, signEvidence } from './sign-evidence.ts';
import { stampEvidence, TimeStampError, type TimeStampSettings } from './time-stamp.ts';

export interface EvidenceDeps {
  db: Db;
  cipher: ContentCipher;
  pki: PkiContext;
  messageIdDomain: string;
  policyId: string;
  /** The service's identity (configured or development), loaded once on first use. */
  serviceIdentity: () => Promise<EvidenceIdentity>;
  /** EVIDENCE_TSA_URL: every evidence gets an RFC 3161 time-stamp before it is stored. */
  timeStamp?: (TimeStampSettings & { attempts: number; backoff: BackoffPolicy }) | undefined;
  /** EVIDENCE_MAIL_RECEIPTS: which senders get receipts by mail (receipt-mail.ts). */
  mailReceipts: MailReceipts;
}

/**
 * An `evidence` job: issues evidence for every evidence-worthy event of the
 * message that has none yet, in event order, each chained to the one before
 * and signed, then removes the job, all in one transaction under a per-message
 * lock. Retries and concurrent workers find nothing left to do (idempotent);
 * a crash before commit leaves nothing behind and the job comes back.
 *
 * With a TSA configured, each evidence is time-stamped before it is stored (the
 * chain covers the stamped bytes). A TSA that fails rolls the whole issuance
 * back and the job is retried with backoff; after `attempts` tries the
 * evidence is issued without a time-stamp (a warning in the log), so the chain
 * of a message is never held up for good by a TSA that is down.
 */
export async function evidenceJob(deps: EvidenceDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const found = job.messageId ? await findMessageWithRecipients(deps.db, job.messageId) : undefined;
  if (!found) {
    log.error('evidence job for a message that does not exist; removing it');
    await completeJob(deps.db, job.id);
    return 'skipped';
  }
  const { message } = found;
  // Chosen before the transaction: validation may fetch revocation data.
  const identity =
    (await chooseTenantEvidenceIdentity({ ...deps.pki, cipher: deps.cipher }, message.tenantId, (identityId, reason) =>
      log.warn({ identityId, reason }, 'the tenant evidence identity is not valid; the service identity signs instead'),
    )) ?? (await deps.serviceIdentity());
  const certificate = parseCertificate(identity.certificate);
  const issuer = { name: certificate.subject, certificateSha256: sha256(identity.certificate).toString('hex') };

  const stamp = deps.timeStamp && job.attempts < deps.timeStamp.attempts ? deps.timeStamp : undefined;
  if (deps.timeStamp && !stamp) log.warn({ attempts: job.attempts }, 'the TSA failed every attempt; issuing this evidence without a time-stamp');

  try {
    return await issue(deps, job, log, found, identity, issuer, stamp);
  } catch (error) {
    if (!(error instanceof TimeStampError) || !deps.timeStamp) throw error;
    const delay = retryDelaySeconds(job.attempts, deps.timeStamp.backoff);
    log.warn({ reason: error.message, attempt: job.attempts, retryInSeconds: delay }, 'time-stamp failed; nothing issued, the evidence job is retried');
    await rescheduleJob(deps.db, job.id, delay);
    return 'retrying';
  }
}

async function issue(
  deps: EvidenceDeps,
  job: ClaimedJob,
  log: Logger,
  { message, recipients }: { message: MessageRow; recipients: RecipientRow[] },
  identity: EvidenceIdentity,
  issuer: { name: string; certificateSha256: string },
  stamp: TimeStampSettings | undefined,
): Promise<JobResult> {
  return deps.db.transaction(async (tx): Promise<JobResult> => {
    await lockMessageEvidence(tx, message.id);
    const pending = await pendingEvidence(tx, message.id, evidenceEventTypes);
    const issued: NewEvidence[] = [];
    if (pending.events.length > 0) {
      const attachments = await attachmentDigests(tx, message.id);
      const content = openContent(deps.cipher, message.id, message.content);
      let previous: ChainHead | undefined = pending.head;
      for (const event of pending.events) {
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
        let signed = await signEvidence(evidenceXml(facts), identity, issuedAt);
        if (stamp) {
          const stamped = await stampEvidence(signed, stamp);
          signed = stamped.stamped;
          log.info({ evidenceId: facts.evidenceId, genTime: stamped.info.genTime.toISOString(), tsa: stamped.info.tsaName }, 'evidence time-stamped');
        }
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
        issued.push(row);
        if (mailsReceipt(deps.mailReceipts, facts.type, message.mode)) {
          await enqueueJob(tx, { kind: JobKind.receipt_mail, messageId: message.id, payload: { evidenceId: row.id } });
        }
        previous = row;
        log.info({ evidenceId: row.id, type: row.type, eventId: event.id, sequence, signer: identity.source }, 'evidence issued');
      }
    }
    // The chain's new links and the job's removal: one statement.
    await insertEvidence(tx, issued, completeJobStatement(job.id));
    return 'done';
  });
}
