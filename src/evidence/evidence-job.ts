import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { PkiContext } from '../core/certificate-rules.ts';
import { chooseTenantEvidenceIdentity, type EvidenceIdentity } from '../core/evidence-identity.ts';
import { openContent } from '../core/sealed-content.ts';
import type { Db } from '../db/client.ts';
import { evidenceWork, insertEvidence, isChainConflict, type ChainHead, type EvidenceWork, type NewEvidence } from '../db/repositories/evidence.ts';
import type { Logger } from '../logger.ts';
import type { ClaimedJob } from '../outbox/claim.ts';
import { completeJob, completeJobStatement } from '../outbox/complete.ts';
import { enqueueJobStatement } from '../outbox/enqueue.ts';
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
 * and signed. Two statements and no transaction: one read (evidenceWork, one
 * snapshot), then one write that inserts the new links, queues the receipts
 * they owe and removes the job. Retries and concurrent workers find nothing
 * left to do (idempotent); a crash before the write leaves nothing behind and
 * the job comes back.
 *
 * Two workers extending one chain at once (a job claimed while the next event
 * queued another, or a job run again after its lease expired) cannot both
 * win: the unique indexes on (message, sequence) and on the event make the
 * later write fail as a whole,
 * and that worker reads again and extends the new head, or finds its events
 * issued (at most CHAIN_CONFLICT_TRIES reads, then the job is retried later).
 *
 * With a TSA configured, each evidence is time-stamped before it is stored (the
 * chain covers the stamped bytes); no transaction is open meanwhile. A TSA that
 * fails leaves nothing issued and the job is retried with backoff; after
 * `attempts` tries the evidence is issued without a time-stamp (a warning in
 * the log), so the chain of a message is never held up for good by a TSA that
 * is down.
 */
export async function evidenceJob(deps: EvidenceDeps, job: ClaimedJob, log: Logger): Promise<JobResult> {
  const stamp = deps.timeStamp && job.attempts < deps.timeStamp.attempts ? deps.timeStamp : undefined;
  if (deps.timeStamp && !stamp) log.warn({ attempts: job.attempts }, 'the TSA failed every attempt; issuing this evidence without a time-stamp');
  let signer: Signer | undefined;
  for (let read = 1; ; read++) {
    const work = job.messageId ? await evidenceWork(deps.db, job.messageId, evidenceEventTypes) : undefined;
    if (!work) {
      log.error('evidence job for a message that does not exist; removing it');
      await completeJob(deps.db, job.id);
      return 'skipped';
    }
    if (work.pending.length === 0) {
      await completeJob(deps.db, job.id);
      return 'done';
    }
    signer ??= await chooseSigner(deps, work.message.tenantId, log);
    try {
      await issue(deps, job, log, work, signer, stamp);
      return 'done';
    } catch (error) {
      if (error instanceof TimeStampError && deps.timeStamp) {
        const delay = retryDelaySeconds(job.attempts, deps.timeStamp.backoff);
        log.warn({ reason: error.message, attempt: job.attempts, retryInSeconds: delay }, 'time-stamp failed; nothing issued, the evidence job is retried');
        await rescheduleJob(deps.db, job.id, delay);
        return 'retrying';
      }
      if (!isChainConflict(error)) throw error;
      if (read >= CHAIN_CONFLICT_TRIES) {
        log.warn({ reads: read }, 'another worker kept extending this chain first; the evidence job is retried');
        await rescheduleJob(deps.db, job.id, 1);
        return 'retrying';
      }
      log.debug({ read }, 'another worker extended this chain first; reading it again');
    }
  }
}

/** Reads of a chain an evidence job makes when other workers keep extending it first. */
const CHAIN_CONFLICT_TRIES = 5;

interface Signer {
  identity: EvidenceIdentity;
  issuer: { name: string; certificateSha256: string };
}

/** The tenant's evidence identity when it has a valid one, else the service's. Validation may fetch revocation data. */
async function chooseSigner(deps: EvidenceDeps, tenantId: string, log: Logger): Promise<Signer> {
  const identity =
    (await chooseTenantEvidenceIdentity({ ...deps.pki, cipher: deps.cipher }, tenantId, (identityId, reason) =>
      log.warn({ identityId, reason }, 'the tenant evidence identity is not valid; the service identity signs instead'),
    )) ?? (await deps.serviceIdentity());
  const certificate = parseCertificate(identity.certificate);
  return { identity, issuer: { name: certificate.subject, certificateSha256: sha256(identity.certificate).toString('hex') } };
}

/** Builds, signs (and stamps) the pending events' evidence, then writes it with the job's removal in one statement. */
async function issue(
  deps: EvidenceDeps,
  job: ClaimedJob,
  log: Logger,
  { message, recipients, pending, head, attachments }: EvidenceWork,
  { identity, issuer }: Signer,
  stamp: TimeStampSettings | undefined,
): Promise<void> {
  const content = openContent(deps.cipher, message.id, message.content);
  const issued: NewEvidence[] = [];
  const receipts: SQL[] = [];
  let previous: ChainHead | undefined = head;
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
      receipts.push(enqueueJobStatement({ kind: JobKind.receipt_mail, messageId: message.id, payload: { evidenceId: row.id } }));
    }
    previous = row;
  }
  // The chain's new links, their receipts and the job's removal: one statement.
  await insertEvidence(deps.db, issued, [...receipts, completeJobStatement(job.id)]);
  for (const row of issued) {
    log.info({ evidenceId: row.id, type: row.type, eventId: row.eventId, sequence: row.sequence, signer: identity.source }, 'evidence issued');
  }
}
